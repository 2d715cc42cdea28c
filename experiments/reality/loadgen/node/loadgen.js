// Load generator for node-postgres's pg.Pool, the same design as ../pyharness.py:
// trace `id,t_s,hold_s` in; requests.csv, samples.csv, meta.json and t0 out.
//
//   NODE_PATH=<Debian's node-pg> node loadgen.js TRACE HOST PORT OUT_DIR key=value...
//
// Keys are pg.Pool's own options (max, idleTimeoutMillis, connectionTimeoutMillis). Each
// request does what node-postgres's README does: const client = await pool.connect();
// try { await client.query(...) } finally { client.release() }.
'use strict';
const fs = require('fs');
const path = require('path');
const { monitorEventLoopDelay, PerformanceObserver, performance } = require('perf_hooks');
const pg = require('pg');

const [trace, host, port, out, ...kvs] = process.argv.slice(2);
const opts = {};
for (const kv of kvs) {
  const [k, v] = kv.split('=');
  opts[k] = Number(v);
}
fs.mkdirSync(out, { recursive: true });
const recs = fs.readFileSync(trace, 'utf8').trim().split('\n').slice(1).map((l) => {
  const [id, t, h] = l.split(',');
  return { id: +id, arrival: +t, hold: +h, start: NaN, acqStart: NaN, acquired: NaN,
           queryDone: NaN, released: NaN, ended: NaN, outcome: 'other', pid: '' };
});

let connects = 0, closes = 0;
const connectTimes = [];
class TimedClient extends pg.Client {
  constructor(config) {
    super(config);
    // A connect abandoned by connectionTimeoutMillis errors later on its own client; pg-pool
    // 3.5 leaves that client without a listener, which would end the process.
    this.on('error', () => {});
  }

  connect(callback) {
    // pg-pool calls connect(callback); applications call it for a promise.
    const s = performance.now();
    const done = () => { connectTimes.push((performance.now() - s) / 1e3); connects++; };
    if (callback) {
      return super.connect((err) => { if (!err) done(); callback(err); });
    }
    return super.connect().then((r) => { done(); return r; });
  }
}
const pool = new pg.Pool({ host, port: +port, user: 'postgres', database: 'postgres',
                           Client: TimedClient, ...opts });
pool.on('remove', () => { closes++; });
pool.on('error', () => {});   // an idle client's backend went away (a restart): pg removes it

let t0 = 0;
const now = () => (performance.now() - t0) / 1e3;
const gcPauses = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) gcPauses.push(e.duration); })
  .observe({ entryTypes: ['gc'] });
const loopDelay = monitorEventLoopDelay({ resolution: 1 });

async function handle(r) {
  r.start = r.acqStart = now();
  let client;
  try {
    client = await pool.connect();
  } catch (e) {
    r.outcome = /timeout/i.test(e.message) ? 'acquire_timeout' : 'connect_error';
    r.ended = now();
    return;
  }
  r.acquired = now();
  let err;
  try {
    const res = await client.query(`SELECT pg_backend_pid() AS pid FROM pg_sleep(${r.hold})`);
    r.pid = res.rows[0].pid;
    r.queryDone = now();
    r.outcome = 'ok';
  } catch (e) {
    err = e;
    r.outcome = 'query_error';
  } finally {
    client.release(err);
  }
  r.released = r.ended = now();
}

const sleep = (s) => new Promise((res) => setTimeout(res, Math.max(0, s * 1e3)));
const f = (x) => (Number.isNaN(x) ? '' : x.toFixed(6));

(async () => {
  const cpu0 = process.cpuUsage();
  t0 = performance.now() + 500;
  fs.writeFileSync(path.join(out, 't0'), `${((Date.now() + 500) / 1e3).toFixed(6)}\n`);
  loopDelay.enable();
  const samples = [], samplerLag = [];
  let k = 0, stop = false;
  const sampler = (async () => {
    while (!stop) {
      const due = k * 0.1;
      await sleep(due - now());
      const n = now();
      samplerLag.push(n - due);
      samples.push(`${n.toFixed(4)},${pool.totalCount},${pool.idleCount},${pool.totalCount - pool.idleCount},${pool.waitingCount}`);
      k++;
    }
  })();
  const tasks = [];
  for (const r of recs) {
    await sleep(r.arrival - now());
    tasks.push(handle(r));
  }
  await Promise.all(tasks);
  stop = true;
  await sampler;
  loopDelay.disable();
  const cpu = process.cpuUsage(cpu0);
  await pool.end();
  const lines = ['id,arrival_s,start_s,acquire_start_s,acquired_s,query_done_s,released_s,ended_s,outcome,backend_pid'];
  for (const r of recs) {
    lines.push([r.id, f(r.arrival), f(r.start), f(r.acqStart), f(r.acquired), f(r.queryDone),
                f(r.released), f(r.ended), r.outcome, r.pid].join(','));
  }
  fs.writeFileSync(path.join(out, 'requests.csv'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(out, 'samples.csv'), ['t_s,total,idle,in_use,waiting', ...samples].join('\n') + '\n');
  samplerLag.sort((a, b) => a - b);
  const meta = {
    library: 'node_postgres', version: require('pg/package.json').version, language: `node ${process.version}`,
    t0_epoch: Number(fs.readFileSync(path.join(out, 't0'), 'utf8')),
    connections_opened_library: connects, connections_closed_library: closes,
    connect_times_s: connectTimes,
    noise: {
      sampler_lag_p99_ms: 1e3 * (samplerLag[Math.floor(0.99 * (samplerLag.length - 1))] || 0),
      event_loop_delay_p99_ms: loopDelay.percentile(99) / 1e6,
      event_loop_delay_max_ms: loopDelay.max / 1e6,
      cpu_user_s: cpu.user / 1e6, cpu_sys_s: cpu.system / 1e6,
      gc_pauses: gcPauses.length, gc_pause_total_ms: gcPauses.reduce((a, b) => a + b, 0),
      gc_pause_max_ms: Math.max(0, ...gcPauses), loadavg_1m_end: require('os').loadavg()[0],
    },
  };
  fs.writeFileSync(path.join(out, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
