/**
 * The status page's script: plain browser JavaScript, no build step, no library. It keeps the admin key in
 * `sessionStorage` (this tab only, gone when it closes), polls `./live` every second with the key in a
 * header (never in a URL), and builds the page with `textContent` only (data is never parsed as HTML).
 * A value that looks like a JWT is sent as `Authorization: Bearer` (an Entra token with the admin role).
 * On Azure Functions a `?code=` (the function key) in the page's URL is kept the same way and sent as
 * `x-functions-key` on every fetch (ADR 0033).
 */
export const PAGE_SCRIPT = String.raw`
'use strict';
var KEY = 'gateway-admin-key';
var POLL_MS = 1000;
var timer = null;
var COLORS = ['#58a6ff', '#3fb950', '#d29922', '#f85149', '#bc8cff', '#39c5cf', '#ff7b72', '#8b949e'];

function $(id) { return document.getElementById(id); }
function el(tag, attrs, children) {
  var node = document.createElement(tag);
  for (var name in attrs || {}) node.setAttribute(name, attrs[name]);
  (children || []).forEach(function (c) {
    node.appendChild(typeof c === 'object' && c !== null ? c : document.createTextNode(c == null ? '' : String(c)));
  });
  return node;
}
function clock(ms) { return ms == null ? '' : new Date(ms).toLocaleTimeString(); }
function num(n, digits) {
  return n == null ? '–' : Number(n).toLocaleString(undefined, { maximumFractionDigits: digits || 0 });
}
function pct(x) { return (Math.round(x * 1000) / 10) + ' %'; }
function table(target, headers, rows) {
  var t = el('table', {}, [el('thead', {}, [el('tr', {}, headers.map(function (h) { return el('th', {}, [h]); }))])]);
  var body = el('tbody');
  rows.forEach(function (cells) {
    body.appendChild(el('tr', {}, cells.map(function (c) {
      return c instanceof Node ? el('td', {}, [c]) : el('td', {}, [c]);
    })));
  });
  if (rows.length === 0)
    body.appendChild(el('tr', {}, [el('td', { class: 'dim', colspan: String(headers.length) }, ['none'])]));
  t.appendChild(body);
  target.replaceChildren(t);
}
function badge(text, cls) { return el('span', { class: 'badge ' + cls, 'data-state': cls }, [text]); }

// On Azure Functions the admin trigger also wants the function key. The page is opened with ?code=<function
// key> (the one way a browser navigation can carry it); the key moves to this tab's sessionStorage, leaves the
// address bar (and history), and goes with every fetch as x-functions-key.
var FUNCTION_KEY = 'gateway-functions-key';
(function keepFunctionKey() {
  var params = new URLSearchParams(location.search);
  var code = params.get('code');
  if (!code) return;
  sessionStorage.setItem(FUNCTION_KEY, code);
  params.delete('code');
  var rest = params.toString();
  history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
})();

function credentialHeaders(secret) {
  var headers = /^eyJ[\w-]+\.[\w-]+\.[\w-]*$/.test(secret)
    ? { authorization: 'Bearer ' + secret }
    : { 'x-gateway-admin-key': secret };
  var functionKey = sessionStorage.getItem(FUNCTION_KEY);
  if (functionKey) headers['x-functions-key'] = functionKey;
  return headers;
}

function showLogin(message) {
  if (timer) clearTimeout(timer);
  timer = null;
  $('board').hidden = true;
  $('login').hidden = false;
  $('refused').textContent = message || '';
  $('key').focus();
}

function poll() {
  var secret = sessionStorage.getItem(KEY);
  if (!secret) return showLogin('');
  fetch('live', { headers: credentialHeaders(secret), cache: 'no-store' }).then(function (res) {
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem(KEY);
      return res.json().then(function (body) {
        showLogin('Refused (' + res.status + '): ' + ((body.error && body.error.message) || 'not an admin credential'));
      }, function () { showLogin('Refused (' + res.status + ').'); });
    }
    if (!res.ok) throw new Error('HTTP ' + res.status);
    return res.json().then(function (view) {
      $('login').hidden = true;
      $('board').hidden = false;
      $('stale').textContent = '';
      render(view);
      timer = setTimeout(poll, POLL_MS);
    });
  }).catch(function (error) {
    $('stale').textContent = 'not updating: ' + error.message + ' (retrying)';
    timer = setTimeout(poll, POLL_MS * 2);
  });
}

function render(v) {
  $('instance').textContent = v.instance;
  $('config').textContent = 'config ' + v.config.version + ' from ' + v.config.source + reloadText(v.config);
  $('updated').textContent = 'updated ' + clock(v.atMs);
  var open = v.backends.filter(function (b) { return b.state === 'open'; }).length;
  $('pulse').replaceChildren.apply($('pulse'), [
    stat(num(v.pulse.callsPerSec, 1), 'calls/s'), stat(num(v.pulse.errors), 'errors (10 s)'),
    stat(num(v.pulse.tokensPerSec, 1), 'tokens/s'), stat(String(open), 'breakers open'),
    stat(num(v.pools.reduce(function (s, p) { return s + p.queued; }, 0)), 'queued')]);
  renderBackends(v);
  renderPools(v);
  chart($('tokens-model'), v.tokens.byModel);
  chart($('tokens-caller'), v.tokens.byCaller);
  renderToday(v);
  table($('errors'), ['code', 'last min', 'last 15 min', 'since start', 'last', 'status', 'request id'],
    v.errors.map(function (e) {
      return [e.code, e.lastMinute, e.last15Minutes, e.sinceStart, clock(e.lastAtMs), e.lastStatus,
        e.lastRequestId.slice(0, 8) + '…'];
    }));
  table($('transitions'), ['time', 'backend', 'from', 'to', 'open until'],
    v.transitions.slice().reverse().map(function (t) {
      return [clock(t.atMs), t.backendId, t.from, t.to, clock(t.openUntilMs)];
    }));
  table($('exports'), ['exporter', 'buffered', 'sent', 'failed sends', 'back-pressure', 'dropped', 'last error'],
    v.exports.map(function (x) {
      return [x.name, x.buffered, x.sent, x.failedSends, x.backPressure, x.dropped,
        x.lastError ? clock(x.lastError.atMs) + ' ' + x.lastError.message : ''];
    }));
}
function reloadText(c) {
  if (!c.lastReload) return '';
  return ' · last reload ' + clock(c.lastReload.atMs) +
    (c.lastReload.ok ? ' accepted' : ' REFUSED: ' + c.lastReload.issues.join('; '));
}
function stat(value, label) { return el('div', {}, [el('b', {}, [value]), el('span', {}, [label])]); }

function renderBackends(v) {
  table($('backends'),
    ['backend', 'group', 'weight', 'breaker', 'cooling until', 'in flight', 'latency 1 min', 'errors 1 min',
      'last error'],
    v.backends.map(function (b) {
      var state = b.state === 'open' ? badge('open until ' + clock(b.openUntilMs), 'open') : badge(b.state, b.state);
      var row = [b.id, b.group, b.weight, state, b.coolingUntilMs ? badge(clock(b.coolingUntilMs), 'cooling') : '',
        b.inFlight + ' / ' + b.maxConcurrency, b.lastMinute.latencyMs == null ? '–' : b.lastMinute.latencyMs + ' ms',
        b.lastMinute.attempts === 0 ? '–' : pct(b.lastMinute.errorRate) + ' of ' + b.lastMinute.attempts,
        b.lastMinute.lastError ? b.lastMinute.lastError.code + ' at ' + clock(b.lastMinute.lastError.atMs) : ''];
      return row;
    }));
  Array.prototype.forEach.call($('backends').querySelectorAll('tbody tr'), function (tr, i) {
    if (v.backends[i]) tr.setAttribute('data-backend', v.backends[i].id);
  });
}

function renderPools(v) {
  table($('pools'),
    ['pool', 'capacity', 'in flight', 'queued by level', 'oldest wait', 'grants/s',
      'rejected 1 min (queue full / TTL / quota)'],
    v.pools.map(function (p) {
      var levels = p.levels.map(function (l) { return 'L' + l.level + ' ' + l.waiting; }).join(' · ');
      var r = p.activity.rejectedLastMinute;
      return [p.id, p.capacity, p.inFlight, levels || '0', p.oldestWaitMs ? num(p.oldestWaitMs) + ' ms' : '–',
        num(p.activity.grantsPerSec, 2), r.queue_full + ' / ' + r.ttl + ' / ' + r.quota];
    }));
}

function renderToday(v) {
  if (!v.today) {
    $('today-callers').textContent = v.todayError || 'reading the usage ledger…';
    $('today-models').textContent = '';
    return;
  }
  var cost = function (r) { return r.cost === undefined ? '' : r.cost === null ? 'unpriced' : num(r.cost, 4); };
  var heads = function (what) { return [what, 'requests', 'tokens', 'cost ' + v.today.currency]; };
  var rows = function (list) {
    return list.map(function (r) { return [r.key, num(r.requests), num(r.totalTokens), cost(r)]; });
  };
  table($('today-callers'), heads('caller'), rows(v.today.byCaller).concat([
    ['TOTAL', num(v.today.total.requests), num(v.today.total.totalTokens), cost(v.today.total)]
  ]));
  table($('today-models'), heads('model'), rows(v.today.byModel));
  $('today-asof').textContent =
    'since ' + new Date(v.today.fromMs).toISOString().slice(0, 10) + ' 00:00 UTC, read ' + clock(v.today.asOfMs);
}

function chart(target, series) {
  var W = 600, H = 140, max = 1;
  series.forEach(function (s) { s.perMinute.forEach(function (n) { if (n > max) max = n; }); });
  var ns = 'http://www.w3.org/2000/svg';
  var svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('preserveAspectRatio', 'none');
  series.forEach(function (s, i) {
    var line = document.createElementNS(ns, 'polyline');
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', COLORS[i % COLORS.length]);
    line.setAttribute('stroke-width', '2');
    line.setAttribute('points', s.perMinute.map(function (n, x) {
      return (x * W / 59).toFixed(1) + ',' + (H - 4 - n / max * (H - 8)).toFixed(1);
    }).join(' '));
    svg.appendChild(line);
  });
  var legend = el('div', { class: 'legend' },
    series.length === 0 ? ['no tokens in the last hour'] : series.map(function (s, i) {
      var swatch = el('i');
      swatch.style.background = COLORS[i % COLORS.length];
      return el('span', {}, [swatch, s.key + ' ' + num(s.total)]);
    }));
  var scale = el('div', { class: 'legend' }, ['peak ' + num(max) + ' tokens/min · last 60 minutes']);
  target.replaceChildren(svg, legend, scale);
}

$('login').addEventListener('submit', function (event) {
  event.preventDefault();
  var value = $('key').value.trim();
  $('key').value = '';
  if (!value) return;
  sessionStorage.setItem(KEY, value);
  poll();
});
$('forget').addEventListener('click', function () {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(FUNCTION_KEY);
  showLogin('Key forgotten.');
});
poll();
`;
