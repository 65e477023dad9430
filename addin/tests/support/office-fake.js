// A stand-in for Office.js, served by the tests in place of
// https://appsforoffice.microsoft.com/lib/1/hosted/office.js. It implements
// exactly the subset the task pane uses (see addin/src/host.js), seeded by the
// test through `window.__officeSeed` (set before the page loads), and records
// what the pane asked for in `window.__officeLog`.
(function () {
  'use strict';
  const seed = window.__officeSeed || {};
  const log = (window.__officeLog = []);
  const SUCCEEDED = 'succeeded';
  const FAILED = 'failed';

  function versionAtLeast(have, want) {
    const a = String(have).split('.').map(Number);
    const b = String(want).split('.').map(Number);
    for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
      const x = a[i] || 0;
      const y = b[i] || 0;
      if (x !== y) return x > y;
    }
    return true;
  }

  function result(value, error) {
    return error
      ? { status: FAILED, error: { name: 'GenericError', message: error }, value: undefined, asyncContext: undefined }
      : { status: SUCCEEDED, value, error: undefined, asyncContext: undefined };
  }

  function later(callback, value, error) {
    setTimeout(() => callback(result(value, error)), seed.delayMs || 0);
  }

  function lastCallback(args) {
    for (let i = args.length - 1; i >= 0; i -= 1) if (typeof args[i] === 'function') return args[i];
    return () => {};
  }

  function address(p) {
    return p ? { displayName: p.displayName || p.name || '', emailAddress: p.emailAddress || p.email || '' } : null;
  }

  const mailboxVersion = seed.mailboxVersion || '1.14';
  /** The item as Outlook's read form exposes it. */
  function buildItem(source) {
    if (!source) return null;
    const item = {
      itemType: source.itemType || 'message',
      itemClass: source.itemClass || 'IPM.Note',
      subject: source.subject || '',
      from: address(source.from),
      sender: address(source.sender || source.from),
      to: (source.to || []).map(address),
      cc: (source.cc || []).map(address),
      dateTimeCreated: source.dateTimeCreated ? new Date(source.dateTimeCreated) : new Date(),
      internetMessageId: source.internetMessageId || '',
      body: {
        getAsync(...args) {
          log.push('body.getAsync');
          later(lastCallback(args), source.body || '');
        },
      },
    };
    if (source.start) item.start = new Date(source.start);
    if (source.end) item.end = new Date(source.end);
    if (source.location !== undefined) item.location = source.location;
    if (item.itemType === 'appointment') {
      item.organizer = address(source.organizer || source.from);
      item.requiredAttendees = (source.requiredAttendees || []).map(address);
      item.optionalAttendees = (source.optionalAttendees || []).map(address);
    }
    if (versionAtLeast(mailboxVersion, '1.14')) {
      item.getAsFileAsync = function (...args) {
        log.push('getAsFileAsync');
        if (source.file) later(lastCallback(args), source.file);
        else later(lastCallback(args), undefined, 'The item cannot be retrieved.');
      };
    }
    return item;
  }

  const item = buildItem(seed.item || null);

  const roaming = Object.assign({}, seed.roaming || {});
  window.__roamingSaved = Object.assign({}, roaming);
  const roamingSettings = {
    get(name) {
      return Object.prototype.hasOwnProperty.call(roaming, name) ? roaming[name] : undefined;
    },
    set(name, value) {
      log.push(`roamingSettings.set:${name}`);
      roaming[name] = value;
    },
    remove(name) {
      delete roaming[name];
    },
    saveAsync(...args) {
      log.push('roamingSettings.saveAsync');
      window.__roamingSaved = JSON.parse(JSON.stringify(roaming));
      later(lastCallback(args), undefined);
    },
  };

  const handlers = [];
  const mailbox = {
    item,
    userProfile: {
      emailAddress: (seed.userProfile && seed.userProfile.emailAddress) || '',
      displayName: (seed.userProfile && seed.userProfile.displayName) || '',
    },
    addHandlerAsync(type, handler, ...rest) {
      log.push(`addHandlerAsync:${type}`);
      handlers.push({ type, handler });
      later(lastCallback(rest), undefined);
    },
  };

  const Office = {
    HostType: { Outlook: 'Outlook' },
    PlatformType: { OfficeOnline: 'OfficeOnline' },
    AsyncResultStatus: { Succeeded: SUCCEEDED, Failed: FAILED },
    CoercionType: { Text: 'text', Html: 'html' },
    EventType: { ItemChanged: 'olkItemSelectedChanged' },
    MailboxEnums: { ItemType: { Message: 'message', Appointment: 'appointment' } },
    context: {
      mailbox,
      roamingSettings,
      requirements: {
        isSetSupported(name, version) {
          log.push(`isSetSupported:${name}:${version}`);
          return name === 'Mailbox' && versionAtLeast(mailboxVersion, version || '1.1');
        },
      },
    },
    onReady(callback) {
      const info = { host: 'Outlook', platform: 'OfficeOnline' };
      return new Promise((resolve) => {
        setTimeout(() => {
          if (typeof callback === 'function') callback(info);
          resolve(info);
        }, 0);
      });
    },
  };

  /** For tests: the user selects another item while the pane is pinned. */
  window.__selectItem = function (next) {
    mailbox.item = buildItem(next);
    for (const h of handlers) if (h.type === Office.EventType.ItemChanged) h.handler({ type: h.type });
  };

  window.Office = Office;
})();
