// Candor back office: the browser half of the passkey (WebAuthn) ceremonies.
//
// Buttons say what they do with data-passkey: "register" (add a passkey to your account),
// "second-factor" (after your password) or "sign-in" (no password). Each asks the server for
// options, hands them to navigator.credentials, and sends the answer back; binary fields travel
// as base64url. The CSRF token rides in the X-CSRF-Token header.
'use strict';

const fromB64url = (s) => {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
};
const toB64url = (buf) =>
  btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

async function post(url, csrf, body) {
  const res = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify(body || {}),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `The server answered ${res.status}.`);
  return data;
}

function creationOptions(o) {
  const pk = o.publicKey;
  pk.challenge = fromB64url(pk.challenge);
  pk.user.id = fromB64url(pk.user.id);
  (pk.excludeCredentials || []).forEach((c) => { c.id = fromB64url(c.id); });
  return { publicKey: pk };
}

function requestOptions(o) {
  const pk = o.publicKey;
  pk.challenge = fromB64url(pk.challenge);
  (pk.allowCredentials || []).forEach((c) => { c.id = fromB64url(c.id); });
  return { publicKey: pk };
}

function attestation(cred) {
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response: {
      attestationObject: toB64url(cred.response.attestationObject),
      clientDataJSON: toB64url(cred.response.clientDataJSON),
    },
    extensions: cred.getClientExtensionResults(),
  };
}

function assertion(cred) {
  const r = cred.response;
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response: {
      authenticatorData: toB64url(r.authenticatorData),
      clientDataJSON: toB64url(r.clientDataJSON),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : null,
    },
    extensions: cred.getClientExtensionResults(),
  };
}

const ceremonies = {
  async register(button) {
    const name = document.getElementById(button.dataset.nameField).value;
    const start = await post('/admin/passkeys/register/start', button.dataset.csrf);
    const cred = await navigator.credentials.create(creationOptions(start.options));
    return post('/admin/passkeys/register/finish', button.dataset.csrf, {
      ceremony: start.ceremony, name, credential: attestation(cred),
    });
  },
  async 'second-factor'(button) {
    const start = await post('/admin/mfa/passkey/start', button.dataset.csrf);
    const cred = await navigator.credentials.get(requestOptions(start.options));
    return post('/admin/mfa/passkey/finish', button.dataset.csrf, {
      ceremony: start.ceremony, next: button.dataset.next, credential: assertion(cred),
    });
  },
  async 'sign-in'(button) {
    const start = await post('/admin/passkey-login/start', button.dataset.csrf);
    const cred = await navigator.credentials.get(requestOptions(start.options));
    return post('/admin/passkey-login/finish', button.dataset.csrf, {
      ceremony: start.ceremony, next: button.dataset.next, credential: assertion(cred),
    });
  },
};

document.addEventListener('DOMContentLoaded', () => {
  const status = document.querySelector('[data-passkey-status]');
  const say = (text) => { if (status) status.textContent = text; };
  document.querySelectorAll('[data-passkey]').forEach((button) => {
    if (!window.PublicKeyCredential) {
      button.disabled = true;
      say('This browser cannot use passkeys.');
      return;
    }
    button.addEventListener('click', async () => {
      button.disabled = true;
      say('Follow your browser\u2019s prompt\u2026');
      try {
        const done = await ceremonies[button.dataset.passkey](button);
        window.location.assign(done.redirect);
      } catch (e) {
        say(e.name === 'NotAllowedError' ? 'Cancelled, or no passkey for this site was found.' : e.message);
        button.disabled = false;
      }
    });
  });
});
