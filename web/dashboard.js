// The cvm dashboard: a small vanilla script, served by cvm at /ui/dashboard.js (no framework, no
// CDN). It reads everything from the REST API behind the same session, re-renders on the
// server-sent events of /api/v1/stream, and sends every action with the page's CSRF value.
'use strict';

(() => {
  const API = '/api/v1';
  const metaOf = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content');
  const csrf = metaOf('cvm-csrf');
  const isAdmin = metaOf('cvm-role') === 'admin';
  const app = document.getElementById('app');
  const live = document.getElementById('live');

  const state = {
    workloads: undefined,
    queues: undefined,
    listError: undefined,
    detail: undefined,
    detailError: undefined,
    flash: undefined,
  };

  // ---- DOM helpers: text goes through textContent, never innerHTML.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs ?? {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }
  /** A condition's status, coloured by what it means: Ready=False is bad, Degraded=False is fine. */
  const conditionBadge = (c) => {
    const good = c.type === 'Ready' ? c.status === 'True' : c.status === 'False';
    const tone =
      c.status === 'Unknown'
        ? 'Unknown'
        : good
          ? 'Ready'
          : c.type === 'Ready' || c.type === 'Degraded'
            ? 'Degraded'
            : 'Progressing';
    return h('span', { class: `badge ${tone}` }, c.status);
  };
  const badge = (text) => (text ? h('span', { class: `badge ${text}` }, text) : '');
  const shortDigest = (digest) =>
    typeof digest === 'string' && digest.startsWith('sha256:')
      ? digest.slice(7, 19)
      : (digest ?? '');

  /** "3 min ago" for an RFC 3339 time; the exact time in the title. */
  function when(iso) {
    if (!iso) return '';
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return iso;
    const s = Math.round((Date.now() - t) / 1000);
    const text =
      s < 5
        ? 'just now'
        : s < 90
          ? `${s} s ago`
          : s < 5400
            ? `${Math.round(s / 60)} min ago`
            : s < 129600
              ? `${Math.round(s / 3600)} h ago`
              : `${Math.round(s / 86400)} d ago`;
    return h('time', { datetime: iso, title: iso }, text);
  }

  async function api(path, options = {}) {
    const headers = { accept: 'application/json', ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.method && options.method !== 'GET' && csrf) headers['x-cvm-csrf'] = csrf;
    const response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    if (response.status === 401) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.hash)}`);
      throw new Error('the session ended: log in again');
    }
    const text = await response.text();
    let body;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { message: text };
    }
    if (!response.ok) {
      const error = new Error(
        body.message ?? body.error ?? `${response.status} ${response.statusText}`,
      );
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // ---- Fields of a workload row (GET /api/v1/workloads, WorkloadRow in the OpenAPI document).
  const cvOf = (w) => w.containerVersion.name;
  const readyOf = (w) => w.replicas.ready;
  const desiredOf = (w) => w.replicas.desired;
  const stepText = (r) =>
    r
      ? `${r.strategy ?? ''} step ${r.step} of ${r.steps}${r.phase ? ` (${r.phase})` : ''}`.trim()
      : '';
  const cvHref = (namespace, name) =>
    `#/cv/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

  // ---- Routing: #/?namespace=…&state=… (list) and #/cv/<namespace>/<name> (detail).
  function route() {
    const hash = location.hash.replace(/^#/, '') || '/';
    const [path, query = ''] = hash.split('?');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'cv' && parts.length === 3)
      return { view: 'detail', namespace: parts[1], name: parts[2] };
    const params = new URLSearchParams(query);
    return {
      view: 'list',
      namespace: params.get('namespace') ?? '',
      state: params.get('state') ?? '',
    };
  }
  function setFilter(key, value) {
    const r = route();
    const params = new URLSearchParams();
    const next = { namespace: r.namespace ?? '', state: r.state ?? '', [key]: value };
    if (next.namespace) params.set('namespace', next.namespace);
    if (next.state) params.set('state', next.state);
    const query = params.toString();
    location.hash = `#/${query ? `?${query}` : ''}`;
  }

  // ---- The list view: workloads and queue health.
  function renderList(r) {
    const all = state.workloads ?? [];
    const namespaces = [...new Set(all.map((w) => w.namespace))].sort();
    const states = ['Ready', 'Progressing', 'Degraded', 'Suspended'];
    const shown = all.filter(
      (w) => (!r.namespace || w.namespace === r.namespace) && (!r.state || w.state === r.state),
    );
    const select = (id, label, value, options, key) =>
      h(
        'label',
        { for: id },
        `${label} `,
        h(
          'select',
          { id, onchange: (e) => setFilter(key, e.target.value) },
          h('option', { value: '' }, 'all'),
          options.map((o) => h('option', { value: o, selected: o === value }, o)),
        ),
      );
    const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
    const rows = shown.map((w) =>
      h(
        'tr',
        { 'data-workload': `${w.namespace}/${w.kind}/${w.name}` },
        cell('namespace', w.namespace),
        cell('kind', w.kind),
        cell('name', w.name),
        cell('container', w.container ?? ''),
        cell('CV', cvOf(w) ? h('a', { href: cvHref(w.namespace, cvOf(w)) }, cvOf(w)) : ''),
        cell(
          'version',
          h('span', { class: 'mono version', title: w.image ?? w.digest ?? '' }, w.version ?? ''),
        ),
        cell('ready', h('span', { class: 'num' }, `${readyOf(w) ?? '?'}/${desiredOf(w) ?? '?'}`)),
        cell('state', badge(w.state)),
        cell('rollout', stepText(w.rollout)),
        cell(
          'last rollout',
          w.lastRollout
            ? [
                badge(w.lastRollout.result),
                ' ',
                when(w.lastRollout.finishedAt ?? w.lastRollout.startedAt),
              ]
            : '',
        ),
      ),
    );
    app.replaceChildren(
      flash(),
      h(
        'section',
        { class: 'card', id: 'workloads' },
        h('h2', {}, 'Workloads'),
        h(
          'div',
          { class: 'filters' },
          select('f-ns', 'namespace', r.namespace, namespaces, 'namespace'),
          select('f-state', 'state', r.state, states, 'state'),
          h('span', { class: 'muted' }, `${shown.length} of ${all.length}`),
        ),
        state.listError ? h('p', { class: 'error' }, state.listError) : '',
        state.workloads === undefined
          ? h('p', { class: 'muted' }, 'Loading…')
          : h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'stack' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    [
                      'namespace',
                      'kind',
                      'name',
                      'container',
                      'CV',
                      'version',
                      'ready',
                      'state',
                      'rollout',
                      'last rollout',
                    ].map((t) => h('th', {}, t)),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  rows.length
                    ? rows
                    : h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'No workloads.')),
                ),
              ),
            ),
      ),
      renderQueues(),
    );
  }

  function renderQueues() {
    const queues = state.queues;
    return h(
      'section',
      { class: 'card', id: 'queues' },
      h(
        'h2',
        {},
        'Queues ',
        h('a', { href: queues?.board ?? '/admin/queues/' }, 'open the queue board'),
      ),
      queues === undefined
        ? h('p', { class: 'muted' }, 'Loading…')
        : queues.error
          ? h('p', { class: 'error' }, queues.error)
          : h(
              'div',
              { class: 'queues' },
              queues.items.map((q) =>
                h(
                  'div',
                  { class: 'queue', 'data-queue': q.queue },
                  h('strong', {}, q.queue),
                  h(
                    'div',
                    { class: 'counts' },
                    h('span', {}, h('b', {}, q.waiting), 'waiting'),
                    h('span', {}, h('b', {}, q.active), 'active'),
                    h(
                      'span',
                      { class: q.failed > 0 ? 'failed' : '' },
                      h('b', {}, q.failed),
                      'failed',
                    ),
                  ),
                ),
              ),
            ),
    );
  }

  function flash() {
    if (!state.flash) return '';
    return h(
      'div',
      { class: `flash ${state.flash.error ? 'error' : ''}`, role: 'status' },
      state.flash.text,
    );
  }

  // ---- The detail view of one ContainerVersion.
  function actionButton(label, action, options = {}) {
    return h(
      'button',
      {
        type: 'button',
        class: options.danger ? 'danger' : '',
        'data-action': action,
        disabled: !isAdmin,
        title: isAdmin ? options.title : 'needs the admin token (CVM_ADMIN_TOKEN)',
        onclick: () => act(action, options.body, options.confirm),
      },
      label,
    );
  }

  async function act(action, body, confirmText) {
    const r = route();
    if (r.view !== 'detail') return;
    if (confirmText && !window.confirm(confirmText)) return;
    try {
      const result = await api(
        `${API}/containerversions/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}/${action}`,
        {
          method: 'POST',
          body: body ?? {},
        },
      );
      state.flash = { text: result.message ?? `${action}: done` };
    } catch (error) {
      state.flash = { text: `${action}: ${error.message}`, error: true };
    }
    render();
    void refreshDetail();
  }

  function renderDetail(r) {
    const d = state.detail;
    const title = `${r.namespace}/${r.name}`;
    if (!d || d.key !== title) {
      app.replaceChildren(
        h('p', {}, h('a', { href: '#/' }, '← workloads')),
        h('h1', {}, title),
        state.detailError
          ? h('p', { class: 'error' }, state.detailError)
          : h('p', { class: 'muted' }, 'Loading…'),
      );
      return;
    }
    const cv = d.cv;
    const status = cv.status ?? {};
    const spec = cv.spec ?? {};
    const rollout = status.rollout;
    const failed = status.failedDigests ?? [];
    const last = status.lastRollout;
    const canRetry = !rollout && (last?.result === 'Failed' || last?.result === 'RolledBack');
    const facts = [
      ['image', `${spec.imageRepo ?? ''}:${spec.tag ?? ''}`],
      ['strategy', spec.strategy?.type ?? 'Rolling'],
      [
        'version',
        h('span', { class: 'mono', id: 'current-version' }, status.currentVersion ?? '—'),
      ],
      ['digest', h('span', { class: 'mono' }, status.currentDigest ?? '—')],
      ['running', h('span', { class: 'mono' }, status.currentImage ?? '—')],
      [
        'last rollout',
        last
          ? [
              badge(last.result),
              ' ',
              last.version,
              ' ',
              when(last.finishedAt ?? last.startedAt),
              last.message ? ` — ${last.message}` : '',
            ]
          : '—',
      ],
      [
        'last request',
        status.lastRequest
          ? `${status.lastRequest.value}: ${status.lastRequest.result}${status.lastRequest.message ? ` (${status.lastRequest.message})` : ''}`
          : '—',
      ],
      ['suspended', spec.suspend ? 'yes' : 'no'],
    ];
    app.replaceChildren(
      h('p', {}, h('a', { href: '#/' }, '← workloads')),
      flash(),
      h('h1', {}, title, ' ', badge(cv.state)),
      h(
        'section',
        { class: 'card', id: 'status' },
        h('h2', {}, 'Status'),
        h(
          'dl',
          { class: 'facts' },
          facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
        h(
          'div',
          { class: 'actions' },
          actionButton('Sync', 'sync', { title: 'check the registry now' }),
          spec.suspend
            ? actionButton('Resume', 'resume', { title: 'follow the tag again' })
            : actionButton('Suspend', 'suspend', { title: 'stop following the tag' }),
          rollout ? actionButton('Promote', 'promote', { title: 'skip the remaining steps' }) : '',
          rollout && !spec.suspend
            ? actionButton('Resume rollout', 'resume-rollout', { title: 'past the current pause' })
            : '',
          rollout
            ? actionButton('Abort', 'abort', {
                danger: true,
                confirm: `Abort the rollout of ${rollout.version} and roll back?`,
              })
            : '',
          canRetry
            ? actionButton('Retry', 'retry', {
                title: 'forget the failed digest and roll it out again',
              })
            : '',
        ),
      ),
      rollout
        ? h(
            'section',
            { class: 'card', id: 'rollout' },
            h('h2', {}, 'Rollout in progress'),
            h(
              'dl',
              { class: 'facts' },
              h('dt', {}, 'version'),
              h('dd', { class: 'mono' }, rollout.version),
              h('dt', {}, 'step'),
              h('dd', {}, stepText(rollout)),
              h('dt', {}, 'phase'),
              h('dd', {}, badge('Progressing'), ' ', rollout.phase),
              h('dt', {}, 'started'),
              h('dd', {}, when(rollout.startedAt)),
              h('dt', {}, 'message'),
              h('dd', {}, rollout.message ?? ''),
            ),
          )
        : '',
      h(
        'section',
        { class: 'card', id: 'conditions' },
        h('h2', {}, 'Conditions'),
        table(
          ['type', 'status', 'reason', 'message', 'since'],
          (status.conditions ?? []).map((c) => [
            c.type,
            conditionBadge(c),
            c.reason ?? '',
            c.message ?? '',
            when(c.lastTransitionTime),
          ]),
        ),
      ),
      h(
        'section',
        { class: 'card', id: 'history' },
        h('h2', {}, 'History'),
        table(
          ['version', 'digest', 'result', 'started', 'finished', 'message', ''],
          d.history.map((e) => [
            h('span', { class: 'mono' }, e.version),
            h('span', { class: 'mono', title: e.digest }, shortDigest(e.digest)),
            badge(e.result),
            when(e.startedAt),
            when(e.finishedAt),
            e.message ?? '',
            e.result === 'Succeeded' && e.digest !== status.currentDigest
              ? actionButton('Rollback', 'rollback', {
                  body: failed.includes(e.digest)
                    ? { digest: e.digest, force: true }
                    : { digest: e.digest },
                  confirm: failed.includes(e.digest)
                    ? `${e.version} is in failedDigests. Roll back to it anyway (force)?`
                    : `Roll ${r.name} back to ${e.version}?`,
                  title: `roll back to ${e.version}`,
                })
              : '',
          ]),
          'history-row',
        ),
        d.historyContinue
          ? h('button', { type: 'button', onclick: () => void loadMoreHistory() }, 'more')
          : '',
      ),
      h(
        'section',
        { class: 'card', id: 'failed-digests' },
        h('h2', {}, 'Failed digests'),
        failed.length
          ? h(
              'ul',
              {},
              failed.map((f) => h('li', { class: 'mono' }, f)),
            )
          : h('p', { class: 'muted' }, 'None.'),
      ),
      h(
        'section',
        { class: 'card', id: 'events' },
        h('h2', {}, 'Events'),
        table(
          ['type', 'reason', 'message', 'count', 'last seen'],
          d.events.map((e) => [
            h('span', { class: `badge ${e.type === 'Warning' ? 'Degraded' : 'Ready'}` }, e.type),
            e.reason,
            e.message,
            e.count ?? 1,
            when(e.lastTimestamp ?? e.firstTimestamp),
          ]),
        ),
      ),
    );
  }

  function table(headers, rows, rowClass) {
    if (rows.length === 0) return h('p', { class: 'muted' }, 'None.');
    return h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            headers.map((t) => h('th', {}, t)),
          ),
        ),
        h(
          'tbody',
          {},
          rows.map((cells) =>
            h(
              'tr',
              { class: rowClass },
              cells.map((c) => h('td', {}, c)),
            ),
          ),
        ),
      ),
    );
  }

  // ---- Loading.
  /** The workloads (from cvm's caches): on load and on the stream's events; queues are polled. */
  async function refreshList() {
    try {
      state.workloads = (await api(`${API}/workloads`)).items ?? [];
      state.listError = undefined;
    } catch (error) {
      state.listError = `workloads: ${error.message}`;
    }
    render();
  }

  /** Queue counts have no events: they are read again every few seconds while the list shows. */
  async function refreshQueues() {
    if (route().view !== 'list') return;
    try {
      state.queues = await api(`${API}/queues`);
    } catch (error) {
      state.queues = { error: `queues: ${error.message}` };
    }
    // Only the queues' card: a filter being chosen keeps its focus.
    document.getElementById('queues')?.replaceWith(renderQueues());
  }

  async function refreshDetail() {
    const r = route();
    if (r.view !== 'detail') return;
    const base = `${API}/containerversions/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`;
    try {
      const [cv, history, events] = await Promise.all([
        api(base),
        api(`${base}/history?limit=20`),
        api(`${base}/events`).catch(() => ({ items: [] })),
      ]);
      const key = `${r.namespace}/${r.name}`;
      if (route().view !== 'detail') return;
      state.detail = {
        key,
        cv,
        history: history.items ?? [],
        historyContinue: history.continue,
        events: events.items ?? [],
      };
      state.detailError = undefined;
    } catch (error) {
      state.detailError = error.message;
    }
    render();
  }

  async function loadMoreHistory() {
    const d = state.detail;
    if (!d?.historyContinue) return;
    const [namespace, name] = d.key.split('/');
    const more = await api(
      `${API}/containerversions/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/history?limit=20&continue=${encodeURIComponent(d.historyContinue)}`,
    );
    d.history = d.history.concat(more.items ?? []);
    d.historyContinue = more.continue;
    render();
  }

  function render() {
    const r = route();
    if (r.view === 'detail') renderDetail(r);
    else renderList(r);
  }

  /** Calls `fn` at most once per `ms`, trailing: a burst of events is one refresh. */
  function coalesce(fn, ms) {
    let timer;
    return () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void fn();
      }, ms);
    };
  }
  const listSoon = coalesce(refreshList, 150);
  const detailSoon = coalesce(refreshDetail, 150);

  // ---- Live updates.
  function connect() {
    const source = new EventSource(`${API}/stream`);
    source.addEventListener('open', () => {
      live.textContent = 'live';
      live.className = 'live on';
      listSoon();
      detailSoon();
    });
    source.addEventListener('error', () => {
      live.textContent = 'reconnecting…';
      live.className = 'live off';
    });
    source.addEventListener('cv', (e) => {
      const change = JSON.parse(e.data);
      listSoon();
      const r = route();
      if (r.view === 'detail' && r.namespace === change.namespace && r.name === change.name)
        detailSoon();
    });
    source.addEventListener('workloads', (e) => {
      const { changed = [] } = JSON.parse(e.data);
      listSoon();
      const r = route();
      // The detail view reads history and Events from the API server: only for this CV's workloads.
      const mine = (c) =>
        (state.workloads ?? []).some(
          (w) =>
            w.containerVersion.namespace === r.namespace &&
            w.containerVersion.name === r.name &&
            w.namespace === c.namespace &&
            w.kind === c.kind &&
            w.name === c.name,
        );
      if (r.view === 'detail' && changed.some(mine)) detailSoon();
    });
  }

  window.addEventListener('hashchange', () => {
    state.flash = undefined;
    render();
    if (route().view === 'detail') void refreshDetail();
  });
  // Workloads and CVs change on the stream's events only; queue counts are polled.
  setInterval(() => void refreshQueues(), 5_000);
  render();
  void refreshList();
  void refreshQueues();
  void refreshDetail();
  connect();
})();
