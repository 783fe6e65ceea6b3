// The ltx page: plain DOM, no framework, no build step. Every value from the API is written with
// textContent (never innerHTML), so a site's title or URL can't inject markup into the page.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = { jobId: null, source: null, job: null, file: "llmsTxt" };

  // ---- HTTP ----------------------------------------------------------------------------------

  class HttpError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const err = data && data.error ? data.error : { code: "HTTP_" + res.status, message: text.slice(0, 200) || res.statusText };
      if (res.status === 401) showLogin();
      throw new HttpError(res.status, err.code, err.message);
    }
    return data;
  }

  // ---- helpers -------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "text") node.textContent = String(v);
      else if (k === "className") node.className = v;
      else node.setAttribute(k, String(v));
    }
    for (const c of children || []) if (c) node.append(c);
    return node;
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function setError(node, err) {
    node.textContent = err ? (err.code ? err.code + ": " : "") + err.message : "";
    show(node, Boolean(err));
  }

  function when(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
  }

  /** Lists come as {items}, {jobs}, {websites} or a bare array, depending on the route. */
  function itemsOf(data, key) {
    if (Array.isArray(data)) return data;
    if (data && Array.isArray(data[key])) return data[key];
    if (data && Array.isArray(data.items)) return data.items;
    if (data && Array.isArray(data.data)) return data.data;
    return [];
  }

  function badge(status) {
    return el("span", { className: "badge " + (status || "unknown"), text: status || "unknown" });
  }

  function fileLinks(links) {
    if (!links || !links.llmsTxt) return el("span", { text: "—" });
    return el("span", { className: "files" }, [
      el("a", { href: links.llmsTxt, target: "_blank", rel: "noopener", text: "llms.txt" }),
      document.createTextNode(" · "),
      el("a", { href: links.llmsFullTxt, target: "_blank", rel: "noopener", text: "full" }),
    ]);
  }

  // ---- session -------------------------------------------------------------------------------

  function showLogin() {
    closeStream();
    show($("app"), false);
    show($("logout"), false);
    show($("login-panel"), true);
    $("password").focus();
  }

  function showApp(withLogout) {
    show($("login-panel"), false);
    show($("app"), true);
    show($("logout"), withLogout);
    void loadWebsites();
    void loadJobs();
    void loadWorkers();
  }

  // The worker fleet from /readyz (public, like the page): how many workers are alive, their
  // slots, what runs, and a warning when jobs wait and nothing takes them.
  async function loadWorkers() {
    const line = $("workers");
    try {
      const ready = await api("GET", "/readyz");
      const w = ready && ready.workers;
      if (!w) return show(line, false);
      line.textContent =
        "Workers: " + w.alive + " alive · " + w.active + " of " + w.slots + " slots busy · " + w.waiting + " jobs waiting" +
        (w.stuck ? " — stuck: " + w.reason : "");
      line.className = w.stuck ? "notice" : "muted";
      show(line, true);
    } catch (e) {
      line.textContent = "Workers: unknown (" + e.message + ")";
      line.className = "notice";
      show(line, true);
    }
  }
  setInterval(() => {
    if (!$("app").hidden) void loadWorkers();
  }, 15000);

  async function boot() {
    try {
      const me = await api("GET", "/auth/me");
      showApp(Boolean(me && (me.authenticated !== false)) && me.authEnabled !== false);
    } catch (e) {
      // 401: showLogin already ran. 404: this server has no auth routes, so there is no login.
      if (e.status === 404) showApp(false);
      else if (e.status !== 401) showApp(false);
    }
  }

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    setError($("login-error"), null);
    try {
      await api("POST", "/auth/login", { password: $("password").value });
      $("password").value = "";
      showApp(true);
    } catch (e) {
      if (e.status === 401) show($("login-panel"), true);
      setError($("login-error"), e.status === 401 ? { message: "Wrong password." } : e);
    }
  });

  $("logout").addEventListener("click", async () => {
    try {
      await api("POST", "/auth/logout");
    } catch {
      // Logged out already, or the server is gone: the login form is the right next screen anyway.
    }
    showLogin();
  });

  // ---- one job: submit and watch ---------------------------------------------------------------

  function closeStream() {
    if (state.source) state.source.close();
    state.source = null;
  }

  function renderJob(job) {
    state.job = job;
    show($("job-panel"), true);
    $("job-id").textContent = job.id;
    const status = $("job-status");
    status.textContent = job.status;
    status.className = "badge " + job.status;
    $("job-url-view").textContent = job.url;
    const p = job.progress || {};
    const total = p.pagesTotal || 0;
    const done = p.pagesDone || 0;
    const pct = job.status === "success" ? 100 : total > 0 ? Math.min(100, Math.round((100 * done) / total)) : 0;
    $("job-bar").style.width = pct + "%";
    const phase = job.status === "success" ? "done" : p.phase || (job.status === "queued" ? "waiting for a worker" : "starting");
    const attempts = job.maxAttempts ? ` · attempt ${Math.max(1, job.attempts + (job.status === "success" || job.status === "failure" ? 0 : 1))} of ${job.maxAttempts}` : "";
    $("job-phase").textContent = `${phase} · ${done}/${total} pages${attempts}`;
    const err = job.error && job.error.message;
    $("job-error").textContent = err ? (job.status === "failure" ? "Failed: " : "Last attempt: ") + err : "";
    show($("job-error"), Boolean(err));
    if (job.status === "success") void showResult(job);
    else show($("result"), false);
  }

  function watch(job) {
    closeStream();
    state.jobId = job.id;
    renderJob(job);
    if (job.status === "success" || job.status === "failure") return;
    const source = new EventSource(job.links.events);
    state.source = source;
    const onView = (ev) => {
      if (state.source !== source) return;
      renderJob(JSON.parse(ev.data));
    };
    source.addEventListener("state", onView);
    source.addEventListener("done", (ev) => {
      onView(ev);
      closeStream();
      void loadJobs();
      void loadWebsites();
    });
    source.addEventListener("progress", (ev) => {
      if (state.source !== source || !state.job) return;
      const d = JSON.parse(ev.data);
      renderJob(Object.assign({}, state.job, { status: d.status, progress: d.progress }));
    });
    source.addEventListener("removed", () => {
      closeStream();
      $("job-phase").textContent = "the job was removed";
    });
    source.onerror = () => {
      // EventSource reconnects by itself; a job that ended meanwhile shows up on the re-read.
      if (state.source === source && source.readyState === EventSource.CLOSED) void refreshJob(job.id);
    };
  }

  async function refreshJob(id) {
    try {
      watch(await api("GET", "/api/jobs/" + encodeURIComponent(id)));
    } catch (e) {
      setError($("job-error"), e);
    }
  }

  async function showResult(job) {
    const links = job.links;
    $("open-llms").href = links.llmsTxt;
    $("download-llms").href = links.llmsTxt;
    $("download-full").href = links.llmsFullTxt;
    show($("result"), true);
    const r = job.result || {};
    const bits = [];
    if (r.pagesIncluded !== undefined) bits.push(r.pagesIncluded + " pages");
    if (r.provider) bits.push("provider " + r.provider + (r.model ? " (" + r.model + ")" : ""));
    if (r.version !== undefined) bits.push("version " + r.version);
    if (r.unchanged) bits.push("unchanged since the last run");
    $("result-summary").textContent = bits.join(" · ");
    await showFile(state.file);
  }

  async function showFile(which) {
    state.file = which;
    for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.file === which);
    if (!state.job) return;
    const url = state.job.links[which];
    const view = $("file-view");
    try {
      const res = await fetch(url, { credentials: "same-origin" });
      view.textContent = res.ok ? await res.text() : `(${res.status}: not available yet)`;
    } catch (e) {
      view.textContent = "(could not load: " + e.message + ")";
    }
  }

  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => void showFile(tab.dataset.file));

  $("job-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    setError($("job-form-error"), null);
    const body = { url: $("job-url").value.trim() };
    const maxPages = $("job-max-pages").value;
    if (maxPages) body.maxPages = Number(maxPages);
    $("job-submit").disabled = true;
    try {
      const created = await api("POST", "/api/jobs", body);
      // The POST answer is brief; the event stream's first message is the full view.
      watch(Object.assign({ status: "queued", progress: {}, attempts: 0 }, created));
      void loadJobs();
    } catch (e) {
      setError($("job-form-error"), e);
    } finally {
      $("job-submit").disabled = false;
    }
  });

  // ---- lists ---------------------------------------------------------------------------------

  /** 86400000 → "1d", 5400000 → "90m": the largest unit that divides the interval. */
  function duration(ms) {
    for (const [unit, size] of [["d", 86400000], ["h", 3600000], ["m", 60000], ["s", 1000]]) {
      if (ms >= size && ms % size === 0) return ms / size + unit;
    }
    return ms + "ms";
  }

  function scheduleText(w) {
    const s = w.schedule || w;
    if (s.cron || s.pattern) return (s.cron || s.pattern) + (s.tz ? " (" + s.tz + ")" : "");
    if (s.every !== undefined) return "every " + (typeof s.every === "number" ? duration(s.every) : s.every);
    if (s.everyMs !== undefined) return "every " + duration(s.everyMs);
    return "—";
  }

  function scheduleCell(w) {
    const text = scheduleText(w);
    const stretched = w.schedule && w.schedule.backoffEveryMs;
    return stretched ? text + " (backing off: every " + duration(stretched) + ")" : text;
  }

  /** The llms.txt's score and its warnings (code and count), as `ltx check` reports them. */
  function qualityCell(q) {
    if (!q) return el("span", { text: "—" });
    const warnings = q.warnings || [];
    return el("div", { className: "quality" }, [
      el("span", { className: "score", text: q.score + "/100" }),
      el("span", { className: "muted", text: " · notes on " + Math.round(q.notesShare * 100) + "%" }),
      warnings.length === 0
        ? el("div", { className: "muted", text: "no warnings" })
        : el(
            "ul",
            { className: "warnings" },
            warnings.map((w) => el("li", { title: w.message, text: w.code + " (" + w.count + ")" })),
          ),
    ]);
  }

  async function loadWebsites() {
    const tbody = $("websites").querySelector("tbody");
    try {
      const list = itemsOf(await api("GET", "/api/websites?limit=50"), "websites");
      tbody.replaceChildren(
        ...list.map((w) => {
          const last = w.lastJob || null;
          const enabled = w.enabled !== false;
          const refresh = el("button", { type: "button", className: "link", text: "refresh" });
          refresh.addEventListener("click", async () => {
            try {
              const r = await api("POST", "/api/websites/" + encodeURIComponent(w.id) + "/refresh");
              const job = r && r.job ? r.job : r;
              if (job && job.id && job.links) watch(Object.assign({ status: "queued", progress: {}, attempts: 0 }, job));
              void loadWebsites();
            } catch (e) {
              setError($("website-form-error"), e);
            }
          });
          return el("tr", {}, [
            el("td", {}, [
              el("span", { text: w.url }),
              w.status && w.status !== "active" ? document.createTextNode(" ") : null,
              w.status && w.status !== "active" ? badge(w.status) : null,
              w.pausedReason ? el("div", { className: "muted", text: w.pausedReason }) : null,
            ]),
            el("td", { text: enabled ? scheduleCell(w) : "disabled" }),
            el("td", { text: enabled ? when(w.nextRunAt) : "—" }),
            el("td", {}, [last ? badge(last.status) : el("span", { text: "—" }), last && last.finishedAt ? el("span", { className: "muted", text: " " + when(last.finishedAt) }) : null]),
            el("td", { text: when(w.lastSuccessAt) }),
            el("td", {}, [qualityCell(w.quality)]),
            el("td", {}, [fileLinks(w.links)]),
            el("td", {}, [refresh]),
          ]);
        }),
      );
      show($("websites-empty"), list.length === 0);
    } catch (e) {
      if (e.status !== 401) setError($("website-form-error"), e);
    }
  }

  $("website-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    setError($("website-form-error"), null);
    const body = { url: $("website-url").value.trim() };
    const every = $("website-every").value.trim();
    if (every) body.every = /^\d+$/.test(every) ? Number(every) : every;
    try {
      await api("POST", "/api/websites", body);
      $("website-url").value = "";
      $("website-every").value = "";
      void loadWebsites();
    } catch (e) {
      setError($("website-form-error"), e);
    }
  });
  $("websites-reload").addEventListener("click", () => void loadWebsites());

  async function loadJobs() {
    const tbody = $("jobs").querySelector("tbody");
    try {
      const list = itemsOf(await api("GET", "/api/jobs?limit=10"), "jobs");
      tbody.replaceChildren(
        ...list.map((j) => {
          const open = el("a", { href: "#job-" + j.id, text: j.id });
          open.addEventListener("click", (ev) => {
            ev.preventDefault();
            watch(j);
            window.scrollTo({ top: 0, behavior: "smooth" });
          });
          return el("tr", {}, [el("td", {}, [open]), el("td", { text: j.url }), el("td", {}, [badge(j.status)]), el("td", { text: when(j.createdAt) }), el("td", {}, [j.status === "success" ? fileLinks(j.links) : el("span", { text: "—" })])]);
        }),
      );
      show($("jobs-empty"), list.length === 0);
    } catch (e) {
      if (e.status !== 401) {
        $("notice").textContent = "Could not list jobs: " + e.message;
        show($("notice"), true);
      }
    }
  }
  $("jobs-reload").addEventListener("click", () => void loadJobs());

  void boot();
})();
