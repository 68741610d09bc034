/* eslint-disable @typescript-eslint/no-unused-vars -- ES5 has no optional catch binding */
/*
 * Nurture form embed. Paste on any site:
 *   <script src="https://YOUR-NURTURE/embed.js" data-nurture-form="SLUG" async></script>
 * Draws the form right after the tag (or inside the element named by data-target="#id"),
 * sends it as JSON with the page's UTM tags, and shows errors beside the fields.
 * Plain ES5-style code (plus fetch) with no dependencies; the DOM is built with createElement and
 * textContent only, so nothing from the server is ever parsed as HTML.
 */
(function () {
  'use strict';

  var UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];
  var STORE_KEY = 'nurture_utm';
  var STYLE_ID = 'nurture-form-style';
  var CSS =
    '.nurture-form{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2521;max-width:480px;box-sizing:border-box;border:1px solid #dfe4e0;border-radius:8px;padding:16px 20px;background:#fff}' +
    '.nurture-form *{box-sizing:border-box}' +
    '.nurture-form h3{font-size:1.2em;margin:0 0 12px}' +
    '.nurture-form .nf-field{margin:0 0 12px}' +
    '.nurture-form label{display:block;font-size:.9em;color:#5f6b65;margin:0 0 4px}' +
    '.nurture-form .nf-check label{display:flex;gap:8px;align-items:flex-start;color:#1d2521}' +
    '.nurture-form input[type=text],.nurture-form input[type=email],.nurture-form input[type=tel],.nurture-form select,.nurture-form textarea{width:100%;font:inherit;padding:7px 9px;border:1px solid #dfe4e0;border-radius:8px;background:#fff;color:#1d2521}' +
    '.nurture-form [aria-invalid=true]{border-color:#b3261e}' +
    '.nurture-form .nf-error{color:#b3261e;font-size:.85em;margin-top:4px}' +
    '.nurture-form .nf-alert{color:#b3261e;background:#fbe9e7;border-radius:8px;padding:8px 10px;margin:0 0 12px}' +
    '.nurture-form .nf-thanks{background:#e4f0ea;border-radius:8px;padding:10px 12px;margin:0}' +
    '.nurture-form button{font:inherit;width:100%;padding:9px;border-radius:8px;border:1px solid #2f6f4f;background:#2f6f4f;color:#fff;cursor:pointer}' +
    '.nurture-form button:disabled{opacity:.6;cursor:default}' +
    '.nurture-form .nf-hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}';

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k) && attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k]);
    if (text) node.textContent = text;
    return node;
  }

  function addStyle() {
    if (document.getElementById(STYLE_ID)) return;
    var style = el('style', { id: STYLE_ID });
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  /** UTM tags of this visit; the first tagged page of the session wins, so they survive navigation. */
  function collectUtm() {
    var found = {};
    var any = false;
    var query = window.location.search.replace(/^\?/, '').split('&');
    for (var i = 0; i < query.length; i++) {
      var pair = query[i].split('=');
      var key = decodeParam(pair[0]);
      if (UTM_KEYS.indexOf(key) >= 0 && pair[1]) {
        found[key] = decodeParam(pair.slice(1).join('=')).slice(0, 200);
        any = true;
      }
    }
    var stored = null;
    try {
      stored = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || 'null');
      if (!stored && any) window.sessionStorage.setItem(STORE_KEY, JSON.stringify(found));
    } catch (e) {
      /* storage may be blocked (private mode, sandboxed iframe): use this page's tags only */
    }
    return stored || found;
  }

  function decodeParam(s) {
    try {
      return decodeURIComponent(String(s || '').replace(/\+/g, ' '));
    } catch (e) {
      return '';
    }
  }

  function scriptOrigin(script) {
    var a = document.createElement('a');
    a.href = script.src;
    return a.protocol + '//' + a.host;
  }

  function fieldId(slug, key) {
    return 'nf-' + slug + '-' + key.replace(/[^a-zA-Z0-9_-]/g, '_');
  }

  function renderField(slug, field, texts) {
    var id = fieldId(slug, field.key);
    var wrap = el('div', { 'class': 'nf-field' + (field.type === 'checkbox' ? ' nf-check' : ''), 'data-field': field.key });
    var input;
    var label = el('label', { 'for': id }, field.label + (field.required ? ' *' : ''));
    if (field.type === 'textarea') {
      input = el('textarea', { id: id, name: field.key, rows: '4', placeholder: field.placeholder || null });
    } else if (field.type === 'select') {
      input = el('select', { id: id, name: field.key });
      input.appendChild(el('option', { value: '' }, field.placeholder || texts.choose || '—'));
      var opts = field.options || [];
      for (var i = 0; i < opts.length; i++) input.appendChild(el('option', { value: opts[i] }, opts[i]));
    } else if (field.type === 'checkbox') {
      input = el('input', { id: id, name: field.key, type: 'checkbox' });
    } else {
      input = el('input', { id: id, name: field.key, type: field.type || 'text', placeholder: field.placeholder || null });
      if (field.key === 'email') input.setAttribute('autocomplete', 'email');
      if (field.key === 'phone') input.setAttribute('autocomplete', 'tel');
      if (field.key === 'name') input.setAttribute('autocomplete', 'name');
    }
    if (field.type === 'checkbox') {
      label.insertBefore(input, label.firstChild);
      wrap.appendChild(label);
    } else {
      wrap.appendChild(label);
      wrap.appendChild(input);
    }
    return wrap;
  }

  function renderForm(container, def, base, script) {
    var slug = def.slug;
    var texts = def.texts || {};
    var root = el('div', { 'class': 'nurture-form', 'data-nurture-slug': slug });
    root.appendChild(el('h3', null, def.title));
    var alert = el('p', { 'class': 'nf-alert', role: 'alert' });
    alert.style.display = 'none';
    root.appendChild(alert);
    var form = el('form', { novalidate: 'novalidate' });
    for (var i = 0; i < def.fields.length; i++) form.appendChild(renderField(slug, def.fields[i], texts));
    if (def.consentText) {
      form.appendChild(renderField(slug, { key: 'consent_marketing', type: 'checkbox', label: def.consentText }, texts));
    }
    // The honeypot: people never see it, bots fill it.
    var hp = el('div', { 'class': 'nf-hp', 'aria-hidden': 'true' });
    hp.appendChild(el('input', { type: 'text', name: def.honeypot, tabindex: '-1', autocomplete: 'off' }));
    form.appendChild(hp);
    var button = el('button', { type: 'submit' }, def.submitLabel || texts.submit || 'Send');
    form.appendChild(button);
    root.appendChild(form);
    container.appendChild(root);

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var fields = {};
      var inputs = form.querySelectorAll('input, select, textarea');
      for (var j = 0; j < inputs.length; j++) {
        var inp = inputs[j];
        if (!inp.name) continue;
        fields[inp.name] = inp.type === 'checkbox' ? inp.checked : inp.value;
      }
      var body = { fields: fields, utm: collectUtm(), page: window.location.href.slice(0, 2000) };
      if (document.referrer) body.referrer = document.referrer.slice(0, 2000);
      button.disabled = true;
      button.textContent = texts.sending || '…';
      send(base + '/api/public/forms/' + encodeURIComponent(slug) + '/submit', body, function (status, res) {
        button.disabled = false;
        button.textContent = def.submitLabel || texts.submit || 'Send';
        showResult(root, form, alert, status, res, texts);
      });
    });
    if (script) script.setAttribute('data-nurture-ready', 'true');
  }

  function showResult(root, form, alert, status, res, texts) {
    clearErrors(form);
    if (status === 200 && res && res.ok) {
      if (res.redirectUrl && /^https?:\/\//.test(res.redirectUrl)) {
        window.location.href = res.redirectUrl;
        return;
      }
      root.removeChild(form);
      alert.style.display = 'none';
      root.appendChild(el('p', { 'class': 'nf-thanks', role: 'status' }, res.thankYouText || texts.thanks || 'Thank you!'));
      return;
    }
    var errors = (res && res.errors) || {};
    var shown = false;
    for (var key in errors) {
      if (!Object.prototype.hasOwnProperty.call(errors, key)) continue;
      var wrap = form.querySelector('[data-field="' + cssEscape(key) + '"]');
      if (!wrap) continue;
      var input = wrap.querySelector('input, select, textarea');
      if (input) input.setAttribute('aria-invalid', 'true');
      wrap.appendChild(el('div', { 'class': 'nf-error', 'data-error-for': key }, String(errors[key])));
      shown = true;
    }
    alert.textContent = shown ? texts.fix || '' : texts.failed || 'Could not send the form.';
    alert.style.display = alert.textContent ? '' : 'none';
  }

  function clearErrors(form) {
    var old = form.querySelectorAll('.nf-error');
    for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
    var bad = form.querySelectorAll('[aria-invalid]');
    for (var j = 0; j < bad.length; j++) bad[j].removeAttribute('aria-invalid');
  }

  function cssEscape(s) {
    return String(s).replace(/["\\]/g, '\\$&');
  }

  /** Calls back with (status, parsed JSON or null); a network failure is status 0. */
  function request(url, options, done) {
    window
      .fetch(url, options)
      .then(function (r) {
        return r.text().then(function (t) {
          var parsed = null;
          try {
            parsed = JSON.parse(t);
          } catch (e) {
            parsed = null;
          }
          done(r.status, parsed);
        });
      })
      ['catch'](function () {
        done(0, null);
      });
  }

  function send(url, body, done) {
    request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), credentials: 'omit', mode: 'cors' }, done);
  }

  function load(url, done) {
    request(url, { method: 'GET', credentials: 'omit', mode: 'cors' }, function (status, res) {
      done(status === 200 ? res : null);
    });
  }

  function mount(script) {
    if (script.getAttribute('data-nurture-mounted')) return;
    script.setAttribute('data-nurture-mounted', 'true');
    var slug = script.getAttribute('data-nurture-form');
    if (!slug) return;
    var base = scriptOrigin(script);
    var target = script.getAttribute('data-target');
    var container = target ? document.querySelector(target) : null;
    if (!container) {
      container = el('div', { 'class': 'nurture-form-host' });
      script.parentNode.insertBefore(container, script.nextSibling);
    }
    addStyle();
    collectUtm();
    load(base + '/api/public/forms/' + encodeURIComponent(slug), function (def) {
      if (!def || !def.fields) {
        container.appendChild(el('p', { 'class': 'nurture-form-missing' }, 'Form unavailable.'));
        return;
      }
      renderForm(container, def, base, script);
    });
  }

  function mountAll() {
    var scripts = document.querySelectorAll('script[data-nurture-form]');
    for (var i = 0; i < scripts.length; i++) mount(scripts[i]);
  }

  // An async tag may run before or after the page is parsed; mount now and once more when it is.
  mountAll();
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
})();
