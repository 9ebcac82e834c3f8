// billdrop's dashboard: reads the API of the server that served it (no library, nothing fetched
// from elsewhere) and redraws every REFRESH_MS. Every text from the API goes in through
// textContent, never as HTML.
'use strict';

const API = '/api/v1/billing';
const REFRESH_MS = 10000;
const TOKEN_KEY = 'billdrop-token';

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text')
      node.textContent = v;
    else if (k === 'class')
      node.className = v;
    else
      node.setAttribute(k, v);
  }
  for (const child of children)
    if (child != null)
      node.append(child);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs))
    node.setAttribute(k, v);
  return node;
}

class Unauthorized extends Error {}

async function api(path, init = {}) {
  const headers = new Headers(init.headers || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token)
    headers.set('Authorization', 'Bearer ' + token);
  const response = await fetch(API + path, {...init, headers});
  if (response.status === 401)
    throw new Unauthorized('this server wants a bearer token');
  const body = await response.json().catch(() => null);
  if (!body || body.success !== true) {
    const message = body && body.error ? body.error.code + ': ' + body.error.message
                                       : 'HTTP ' + response.status;
    const error = new Error(path + ': ' + message);
    error.status = response.status;
    throw error;
  }
  return body.data;
}

// Minor units as money: the currency's own exponent (USD 2, JPY 0) from Intl.
function money(minor, currency) {
  const format = new Intl.NumberFormat('en-US', {style : 'currency', currency : currency || 'USD'});
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(Number(minor) / 10 ** digits);
}

// An exact decimal text ("1234.5600001") shown with thousands separators, every digit kept.
function exact(text) {
  const [whole, fraction] = String(text).split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = whole.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return sign + digits + (fraction ? '.' + fraction : '');
}

function when(iso) {
  if (!iso)
    return 'never';
  const d = new Date(iso);
  return d.toISOString().replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

function showError(message) {
  const node = $('error');
  node.textContent = message;
  node.hidden = !message;
}

function monthsTable(months) {
  if (!months.length)
    return el('p', {class : 'muted', text : 'No months yet.'});
  const body = el('tbody');
  for (const m of months) {
    body.append(
        el('tr', {'data-month' : m.month}, el('td', {text : m.month}),
           el('td',
              {class : 'state', 'data-state' : m.state, text : m.state, title : m.message || ''}),
           el('td', {class : 'num rows', text : Number(m.rows).toLocaleString('en-US')}),
           el('td', {class : 'num cost', 'data-cost' : m.cost, text : exact(m.cost)})));
  }
  return el(
      'table', {},
      el('thead', {},
         el('tr', {}, el('th', {text : 'Month'}), el('th', {text : 'State'}),
            el('th', {class : 'num', text : 'Rows'}), el('th', {class : 'num', text : 'Cost'}))),
      body);
}

async function drawConnections() {
  const entries = await api('/sync-status');
  const months = await Promise.all(entries.map(
      (e) => api('/sync-status/' + encodeURIComponent(e.connection) + '/months').catch(() => [])));
  const list = $('connections');
  list.replaceChildren(...entries.map(
      (e, i) => el('article', {class : 'connection', 'data-connection' : e.connection},
                   el('div', {}, el('h3', {text : e.connection}),
                      el('span', {class : 'badge', 'data-status' : e.status, text : e.status})),
                   el('div', {
                     class : 'meta',
                     text : [
                       e.provider,
                       e.cloudAccountID,
                       'last synced ' + when(e.lastSyncedAt),
                       e.nextRunAt ? 'next ' + when(e.nextRunAt) : 'not scheduled',
                       e.monthsBackfilled + ' month(s) backfilled',
                       e.monthsPending ? e.monthsPending + ' pending' : null,
                     ].filter(Boolean)
                                .join(' · ')
                   }),
                   e.message ? el('div', {class : 'message', text : e.message}) : null,
                   monthsTable(months[i]))));
  if (!entries.length)
    list.replaceChildren(el('p', {class : 'muted', text : 'No connections.'}));
}

// Horizontal bars, one per item: label, bar, amount.
function barChart(target, items, currency) {
  const node = $(target);
  if (!items.length) {
    node.replaceChildren(el('p', {class : 'empty', text : 'No spending yet.'}));
    return;
  }
  const row = 22, labelWidth = 120, valueWidth = 110, width = 520;
  const max = Math.max(...items.map((i) => Math.abs(Number(i.amount))), 1);
  const chart = svg('svg', {viewBox : `0 0 ${width} ${items.length * row + 4}`, role : 'img'});
  items.forEach((item, n) => {
    const y = n * row + 2;
    const g = svg('g', {'data-key' : item.label, 'data-amount' : String(item.amount)});
    const label = svg('text', {x : 0, y : y + 15});
    label.textContent = item.label;
    const barWidth = (width - labelWidth - valueWidth) * Math.abs(Number(item.amount)) / max;
    const bar =
        svg('rect', {x : labelWidth, y : y + 3, height : row - 6, width : Math.max(barWidth, 1)});
    const value = svg('text', {x : width - valueWidth + 6, y : y + 15, class : 'amount'});
    value.textContent = money(item.amount, item.currency || currency) +
                        (item.percentage != null ? ` (${item.percentage}%)` : '');
    g.append(label, bar, value);
    chart.append(g);
  });
  node.replaceChildren(chart);
}

async function drawCharts() {
  const [trend, providers, categories] = await Promise.all([
    api('/reports/trend?interval=month'),
    api('/reports/breakdown?by=provider'),
    api('/reports/breakdown?by=category'),
  ]);
  // A report over several currencies has an entry per currency: the label says which.
  const labeller = (entries, name) => {
    const several = new Set(entries.map((e) => e.currency)).size > 1;
    return entries.map(
        (e) => ({
          ...e,
          label : (name(e) ?? '(none)') + (several && e.currency ? ' ' + e.currency : ''),
        }));
  };
  barChart('trend', labeller(trend, (e) => e.date));
  barChart('by-provider', labeller(providers, (e) => e.key));
  barChart('by-category', labeller(categories, (e) => e.name || e.key));
}

async function refresh() {
  try {
    await drawConnections();
    showError('');
    await drawCharts().catch((e) => {
      if (e instanceof Unauthorized)
        throw e;
      for (const id of ['trend', 'by-provider', 'by-category'])
        $(id).replaceChildren(
            el('p', {class : 'empty', text : 'Reports unavailable: ' + e.message}));
    });
    $('updated').textContent = 'updated ' + when(new Date().toISOString());
    document.body.dataset.loaded = 'true';
  } catch (e) {
    if (e instanceof Unauthorized)
      $('token-form').hidden = false;
    showError(e.message);
  }
}

function drawVerify(job) {
  $('verify-result').hidden = false;
  const status = $('verify-status');
  status.textContent = job.status;
  status.dataset.status = job.status;
  const yes = (v) => (v ? 'yes' : 'no');
  $('verify-rows')
      .replaceChildren(...(job.connections || [])
                           .map((c) => el('tr', {'data-connection' : c.connection},
                                          el('td', {text : c.connection}),
                                          el('td', {text : c.cloudAccountID || ''}),
                                          el('td', {text : yes(c.reachable)}),
                                          el('td', {text : yes(c.schemaMatches)}),
                                          el('td', {text : yes(c.sampleValid)}),
                                          el('td', {class : 'num', text : c.monthsBackfilled}),
                                          el('td', {text : c.error || ''}))));
}

async function verify() {
  const button = $('verify');
  button.disabled = true;
  try {
    const started = await api('/verify', {method : 'POST'});
    for (;;) {
      const job = await api('/verify/' + encodeURIComponent(started.jobId));
      drawVerify(job);
      if (job.status !== 'running')
        break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await refresh();
  } catch (e) {
    showError(e.message);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('verify').addEventListener('click', verify);
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value);
    $('token-form').hidden = true;
    refresh();
  });
  refresh();
  setInterval(refresh, REFRESH_MS);
});
