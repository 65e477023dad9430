// What Outlook itself gives the pane, for the tests: the real Office.js (the
// npm package @microsoft/office-js, served at Microsoft's CDN address) runs
// in the page; this file is appended to it and stands in for the host only,
// which no browser has: the host's answer to Office.js's start (Outlook, on
// the web), the open mailbox item (Mailbox 1.14 or the version seeded), the
// user's profile, roaming settings, requirement sets and
// ui.openBrowserWindow, and the Outlook enumerations that Office.js adds once
// it knows it is in Outlook. Seeded by the test through `window.__officeSeed`
// (set before the page loads); what the pane asked for goes to
// `window.__officeLog`, the links it opened through the host to
// `window.__browserWindows`.
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

  // Office.js defines onReady and the host and platform names at once; the
  // rest (context, the enumerations) once its start-up script has run.
  const Office = window.Office;
  if (!Office || typeof Office.onReady !== 'function' || !Office.HostType || !Office.PlatformType) {
    throw new Error('the host stand-in runs after the real Office.js, which did not load');
  }

  const browserWindows = (window.__browserWindows = []);
  const openBrowserWindow = seed.openBrowserWindow !== false;
  const host = {
    mailbox,
    roamingSettings,
    requirements: {
      isSetSupported(name, version) {
        log.push(`isSetSupported:${name}:${version}`);
        if (name === 'Mailbox') return versionAtLeast(mailboxVersion, version || '1.1');
        if (name === 'OpenBrowserWindowApi') return openBrowserWindow && versionAtLeast('1.1', version || '1.1');
        return false;
      },
    },
    ui: openBrowserWindow
      ? {
          openBrowserWindow(url) {
            log.push('ui.openBrowserWindow');
            browserWindows.push(String(url));
          },
        }
      : {},
  };

  // Office.js, loaded outside Office, finds no host and resolves onReady with
  // no host; Outlook would answer its start with the context below.
  const info = { host: Office.HostType.Outlook, platform: Office.PlatformType.OfficeOnline };
  const realOnReady = Office.onReady;
  const started = realOnReady.call(Office).then(() => {
    const status = Office.AsyncResultStatus || {};
    if (status.Succeeded !== SUCCEEDED || status.Failed !== FAILED) {
      throw new Error('Office.js names its async results differently from what the host stand-in answers');
    }
    if (!Office.context || !Office.EventType || !Office.CoercionType) throw new Error('Office.js started without its context');
    // Office.js's Outlook part adds these once the host says it is Outlook.
    Office.EventType.ItemChanged = Office.EventType.ItemChanged || 'olkItemSelectedChanged';
    Office.MailboxEnums = Office.MailboxEnums || { ItemType: { Message: 'message', Appointment: 'appointment' } };
    Object.assign(Office.context, host);
    return info;
  });
  const onReady = function (callback) {
    return started.then(() => {
      if (typeof callback === 'function') callback(info);
      return info;
    });
  };
  // Office.js may set onReady again as its start-up script runs; the host's answer stays.
  Object.defineProperty(Office, 'onReady', {
    configurable: true,
    get: () => onReady,
    set: () => {},
  });

  /** For tests: the user selects another item while the pane is pinned. */
  window.__selectItem = function (next) {
    mailbox.item = buildItem(next);
    for (const h of handlers) if (h.type === Office.EventType.ItemChanged) h.handler({ type: h.type });
  };

})();
