// How a TypeScript program (the task pane) uses the package. Type-checked by
// `tsc --noEmit` in typescript.test.mjs; never run. The `@ts-expect-error`
// lines prove that the types are precise (no `any`): each must be an error.

import init, {
  decide,
  expand,
  itipProcess,
  itipReply,
  itipSchedule,
  rebuildCalendar,
  version,
  type Context,
  type Decision,
  type DecideAnswer,
  type EngineError,
  type Effect,
  type ExpandAnswer,
  type Occurrence,
  type OutgoingMessage,
  type ProcessAnswer,
  type RebuildAnswer,
  type ReplyAnswer,
  type ScheduleAnswer,
} from '../../pkg/invitelink.js';

export async function taskPane(ics: string, bytes: Uint8Array): Promise<string[]> {
  await init({ module_or_path: new URL('../../pkg/invitelink_bg.wasm', import.meta.url) });
  const lines: string[] = [`invitelink ${version()}`];

  const context: Context = {
    mailbox: 'anna@crm.example',
    from: 'bob@acme.example',
    now: '2026-12-01T09:00:00Z',
    preferences: { incoming: 'enable_all', request_reply: true, synchronizer: false },
    user: { import_tentative: true },
    contacts: [{ email: 'bob@acme.example', person_id: 17, name: 'Bob Berg', company: 'Acme' }],
    associates: [{ email: 'anna@crm.example', associate_id: 'a-1', name: 'Anna' }],
    existing: null,
    action: { type: 'accept', notify: false },
  };

  const answer: DecideAnswer = decide(ics, context);
  if (answer.type === 'success') {
    const decision: Decision = answer.decision;
    lines.push(`${decision.kind}${decision.recurring ? ' (series)' : ''}: ${decision.reasons.join('; ')}`);
    if (decision.ignored !== null) lines.push(`ignored: ${decision.ignored}`);
    const enabled = Object.entries(decision.buttons).filter(([, on]) => on).map(([name]) => name);
    lines.push(`buttons: ${enabled.join(', ')}; shown as ${decision.display}`);
    for (const effect of decision.effects) lines.push(describe(effect));
  } else {
    lines.push(...answer.errors.map(explain));
  }

  const processed: ProcessAnswer = itipProcess(bytes, { existing: ics, sender: 'mailto:bob@acme.example' });
  if (processed.type === 'success') {
    if ('ics' in processed) lines.push(processed.ics);
    else if ('ignored' in processed) lines.push(`ignored: ${processed.ignored}`);
    else lines.push(`deleted: ${processed.deleted}`);
  }

  const scheduled: ScheduleAnswer = itipSchedule({ old: null, new: ics, user: ['mailto:anna@crm.example'], now: '2026-12-01T09:00:00Z', rsvp: true });
  if (scheduled.type === 'success') {
    const messages: OutgoingMessage[] = scheduled.messages;
    for (const m of messages) lines.push(`${m.method} to ${m.recipient}${m.significant_change ? ' (significant)' : ''}`);
  }

  const reply: ReplyAnswer = itipReply(ics, { attendee: 'mailto:anna@crm.example', partstat: 'ACCEPTED' });
  if (reply.type === 'success') lines.push(reply.ics.length.toString());

  const expanded: ExpandAnswer = expand(bytes, { from: '2026-12-01', until: '2027-12-01', max_instances: 100 });
  if (expanded.type === 'success') {
    const first: Occurrence | undefined = expanded.occurrences[0];
    if (first) lines.push(`${first.start}–${first.end}${first.all_day ? ' all day' : ''} ${first.summary ?? ''}`);
    if (expanded.limited) lines.push('more occurrences follow');
  }

  const rebuilt: RebuildAnswer = rebuildCalendar({
    item: { kind: 'request', subject: 'Site visit', start: '2026-12-08T12:00:00Z', to: [{ email: 'anna@crm.example', name: 'Anna' }] },
    user: { email: 'anna@crm.example' },
    now: '2026-12-01T09:00:00Z',
  });
  if (rebuilt.type === 'success') lines.push(rebuilt.text);
  // @ts-expect-error "now" is required
  rebuildCalendar({ item: {} });
  return lines;
}

function describe(effect: Effect): string {
  switch (effect.type) {
    case 'create_appointment':
      return `create ${effect.status} appointment ${effect.summary ?? effect.uid} with ${effect.attendees.length} attendees`;
    case 'update_appointment':
      return `update ${effect.uid}${effect.moved ? ' (moved)' : ''}`;
    case 'cancel_appointment':
      return `cancel ${effect.uid}`;
    case 'cancel_occurrence':
      return `cancel ${effect.uid} on ${effect.recurrence_id}`;
    case 'set_attendee_status':
      return `${effect.attendee} is ${effect.partstat}`;
    case 'send_reply':
      return `reply ${effect.partstat} to ${effect.to}`;
    case 'notify':
      return `notify: ${effect.what}`;
    case 'suggest_contact':
      return `register ${effect.name ?? ''} <${effect.email}> as a contact`;
    case 'counter_proposal':
      return `${effect.attendee} proposes ${effect.start ?? '?'}–${effect.end ?? '?'}`;
  }
}

function explain(error: EngineError): string {
  return `${error.code}${error.line === null ? '' : ` at line ${error.line}`}: ${error.message}`;
}

// The types refuse what the engine refuses.
export function misuse(ics: string): void {
  // @ts-expect-error the context needs a mailbox
  decide(ics, { now: '2026-12-01T09:00:00Z' });
  // @ts-expect-error `incoming` is a closed vocabulary
  decide(ics, { mailbox: 'a@b.c', preferences: { incoming: 'sometimes' } });
  // @ts-expect-error the message is text or bytes
  decide(42, { mailbox: 'a@b.c' });
  // @ts-expect-error a reply's partstat is ACCEPTED, TENTATIVE or DECLINED
  itipReply(ics, { attendee: 'a@b.c', partstat: 'MAYBE' });
  // @ts-expect-error `user` is a list of addresses
  itipSchedule({ user: 'a@b.c' });
  const answer = decide(ics, { mailbox: 'a@b.c' });
  // @ts-expect-error a failure has no decision: narrow on `type` first
  answer.decision;
  if (answer.type === 'success') {
    // @ts-expect-error `kind` is a closed vocabulary
    const kind: 'meeting' = answer.decision.kind;
    void kind;
  }
}
