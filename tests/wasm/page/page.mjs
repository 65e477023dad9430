// Loads pkg/ as the task pane does (the ES module fetches its .wasm next to
// it) and runs the jobs the browser test sends.

import init, * as invitelink from '/pkg/invitelink.js';

const started = performance.now();
await init();
window.instantiateMs = performance.now() - started;

async function messageOf(input) {
  if (input.url) return new Uint8Array(await (await fetch(input.url)).arrayBuffer());
  if (input.bytes) return new Uint8Array(input.bytes);
  if ('text' in input) return input.text;
  return input.value;
}

/** Runs one job `{op, message?, request}` and returns the answer object. */
window.runJob = async (job) => {
  switch (job.op) {
    case 'decide':
      return invitelink.decide(await messageOf(job.message), job.request);
    case 'expand':
      return invitelink.expand(await messageOf(job.message), job.request);
    case 'itipProcess':
      return invitelink.itipProcess(await messageOf(job.message), job.request);
    case 'itipReply':
      return invitelink.itipReply(await messageOf(job.message), job.request);
    case 'itipSchedule':
      return invitelink.itipSchedule(job.request);
    case 'version':
      return invitelink.version();
    default:
      throw new Error(`unknown job ${job.op}`);
  }
};

document.getElementById('status').textContent = `invitelink ${invitelink.version()} ready`;
window.ready = true;
