// Building the pages' DOM: the Outlook task pane's module (addin/src/dom.js,
// served at /addin/src/), shared so both build pages the same way.
// Everything that comes from a message, the CRM or the engine goes in as
// text (text nodes, `textContent`), never as markup: there is no innerHTML
// anywhere in the web client or the pane.

export { byId, h, replace, sentence, setMessage, show } from '/addin/src/dom.js';
