// The rules engine, compiled to WebAssembly (pkg/, served at /pkg/). It is
// loaded once, in the background. The pane needs it for two things only: the
// instant preview (without it the CRM still decides on every answer) and
// rebuilding an item Outlook cannot give whole (`rebuildCalendar`,
// `rebuildEmail`; without it such an item cannot be read, and the pane says
// why). The CRM's web client loads the engine through this module too
// (web/src/engine.js).

let loading = null;

/** Loads and instantiates the engine; resolves to the module, rejects with a readable Error. */
export function loadEngine() {
  loading ??= (async () => {
    let mod;
    try {
      mod = await import('/pkg/invitelink.js');
    } catch (e) {
      throw new Error(`the rules engine could not be loaded (${e?.message ?? e})`);
    }
    try {
      await mod.default();
    } catch (e) {
      throw new Error(`the rules engine could not start (${e?.message ?? e})`);
    }
    return mod;
  })();
  return loading;
}

/**
 * The engine's decision for `message` (text or bytes) in `context`:
 * `{type: "success", decision}` or `{type: "failure", errors}`; never throws
 * for bad input (the engine answers `failure`).
 */
export async function decide(message, context) {
  const engine = await loadEngine();
  try {
    return engine.decide(message, context);
  } catch (e) {
    return { type: 'failure', errors: [{ code: 'engine', message: String(e?.message ?? e), line: null }] };
  }
}
