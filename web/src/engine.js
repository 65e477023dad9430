// The rules engine compiled to WebAssembly: the same package the Outlook
// task pane loads from /pkg/. Loaded once, on the first page that decides.

let loading = null;

export function loadEngine() {
  loading ??= (async () => {
    const mod = await import('/pkg/invitelink.js').catch((e) => {
      loading = null;
      throw new Error(`the rules engine could not be loaded (${e?.message ?? e})`);
    });
    await mod.default();
    return mod;
  })();
  return loading;
}

/** `{type: "success", decision}` or `{type: "failure", errors}`; never throws for bad input. */
export async function decide(message, context) {
  const engine = await loadEngine();
  try {
    return engine.decide(message, context);
  } catch (e) {
    return { type: 'failure', errors: [{ code: 'engine', message: String(e?.message ?? e), line: null }] };
  }
}
