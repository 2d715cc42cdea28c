// Load generator for HikariCP (the JVM's reference pool), the same design as pyharness.py:
// trace `id,t_s,hold_s` in; requests.csv, samples.csv, meta.json and t0 out.
//
//   java -cp <classes>:HikariCP.jar:postgresql.jar:slf4j-api.jar:slf4j-nop.jar HikariLoad \
//        TRACE JDBC_URL OUT_DIR key=value...
//
// The key=value pairs are HikariConfig properties in HikariCP's own names (maximumPoolSize,
// minimumIdle, connectionTimeout, idleTimeout, ...), set through HikariConfig(Properties).
// Each request does what a servlet does: try (Connection c = ds.getConnection()) { query }.
// Connections are counted by a wrapping DataSource (each physical connect timed, each
// physical close counted). The same wrapper logs every connection attempt the pool makes to
// attempts.csv (start, the driver's connect returning or failing, and HikariCP's own
// newConnection returning, from its metrics tracker; times from t0, like requests.csv).

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

public final class HikariLoad {
    static final int WORKERS = 256;
    static final double START_DELAY_S = 0.5;
    static long t0;
    static final AtomicInteger connects = new AtomicInteger();
    static final AtomicInteger closes = new AtomicInteger();
    static final ConcurrentLinkedQueue<Double> connectTimes = new ConcurrentLinkedQueue<>();
    static final ConcurrentLinkedQueue<Attempt> attempts = new ConcurrentLinkedQueue<>();
    static final ThreadLocal<Attempt> lastAttempt = new ThreadLocal<>();

    /** One physical connection attempt: the driver's connect timed by CountingDataSource, and
     *  `created` when HikariCP 2.7.9's PoolBase.newConnection returned (its finally block calls
     *  metricsTracker.recordConnectionCreated after setupConnection, success or failure);
     *  PoolEntryCreator.call then adds the entry to the bag (connectionBag.add). */
    static final class Attempt {
        // System.nanoTime() (0 = not reached): the pool's first connects come before t0 is set,
        // so the times from t0 are taken when attempts.csv is written (negative before t0).
        long start, connected, created;
        String outcome = "ok", error = ""; long pid = -1; String thread;
    }

    /** HikariCP's metrics hook: the moment newConnection returned, on the creating thread. */
    static final class CreatedTracker implements com.zaxxer.hikari.metrics.IMetricsTracker {
        @Override public void recordConnectionCreatedMillis(long ms) {
            Attempt a = lastAttempt.get();
            if (a != null && a.created == 0) a.created = System.nanoTime();
        }
    }

    static double now() { return (System.nanoTime() - t0) / 1e9; }

    static final class Rec {
        int id; double arrival, start = Double.NaN, acqStart = Double.NaN, acquired = Double.NaN,
                queryDone = Double.NaN, released = Double.NaN, ended = Double.NaN;
        double hold; String outcome = "other"; long pid = -1;
    }

    /** A DataSource that opens real PostgreSQL connections, timing each and counting closes. */
    static final class CountingDataSource extends org.postgresql.ds.PGSimpleDataSource {
        final String url;
        CountingDataSource(String url) { this.url = url; }
        @Override public Connection getConnection() throws SQLException {
            Attempt at = new Attempt();
            at.thread = Thread.currentThread().getName();
            lastAttempt.set(at);
            attempts.add(at);
            long s = System.nanoTime();
            at.start = s;
            Connection real;
            try {
                real = DriverManager.getConnection(url);
            } catch (SQLException e) {
                at.connected = System.nanoTime();
                at.outcome = "failed";
                at.error = (e.getSQLState() + " " + e.getMessage()).replaceAll("[,\\r\\n]", " ");
                throw e;
            }
            long done = System.nanoTime();
            at.connected = done;
            // The driver's connect alone (unchanged meaning: successful logins only).
            connectTimes.add((done - s) / 1e9);
            connects.incrementAndGet();
            try { at.pid = real.unwrap(org.postgresql.PGConnection.class).getBackendPID(); }
            catch (SQLException ignored) { }
            boolean[] closed = {false};
            return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, (p, m, a) -> {
                    if (m.getName().equals("close") && !closed[0]) { closed[0] = true; closes.incrementAndGet(); }
                    try { return m.invoke(real, a); }
                    catch (java.lang.reflect.InvocationTargetException e) { throw e.getCause(); }
                });
        }
        @Override public Connection getConnection(String u, String p) throws SQLException { return getConnection(); }
    }

    static String ts(long nanos) { return nanos == 0 ? "" : t((nanos - t0) / 1e9); }

    static String t(double x) { return Double.isNaN(x) ? "" : String.format(Locale.ROOT, "%.6f", x); }

    public static void main(String[] args) throws Exception {
        Path trace = Path.of(args[0]);
        String url = args[1];
        Path out = Path.of(args[2]);
        Files.createDirectories(out);
        Properties props = new Properties();
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            props.setProperty(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        List<Rec> recs = new ArrayList<>();
        for (String line : Files.readAllLines(trace).subList(1, Files.readAllLines(trace).size())) {
            if (line.isBlank()) continue;
            String[] f = line.split(",");
            Rec r = new Rec();
            r.id = Integer.parseInt(f[0]); r.arrival = Double.parseDouble(f[1]); r.hold = Double.parseDouble(f[2]);
            recs.add(r);
        }
        HikariConfig cfg = new HikariConfig(props);
        cfg.setDataSource(new CountingDataSource(url));
        cfg.setPoolName("reality");
        cfg.setAutoCommit(true);
        cfg.setMetricsTrackerFactory((name, stats) -> new CreatedTracker());
        HikariDataSource ds = new HikariDataSource(cfg);
        HikariPoolMXBean mx = ds.getHikariPoolMXBean();

        ThreadPoolExecutor workers = new ThreadPoolExecutor(WORKERS, WORKERS, 1, TimeUnit.HOURS,
                new LinkedBlockingQueue<>());
        workers.prestartAllCoreThreads();
        List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long gc0 = gcs.stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
        long gcn0 = gcs.stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();

        long t0Epoch = System.currentTimeMillis() + (long) (START_DELAY_S * 1000);
        t0 = System.nanoTime() + (long) (START_DELAY_S * 1e9);
        Files.writeString(out.resolve("t0"), String.format(Locale.ROOT, "%.3f%n", t0Epoch / 1000.0));

        List<String> samples = new ArrayList<>();
        List<Double> samplerLag = new ArrayList<>();
        double[] gcMaxMs = {0};
        Thread sampler = new Thread(() -> {
            long lastGc = gc0;
            for (int k = 0; !stop.get(); k++) {
                double due = k * 0.1;
                double d = due - now();
                if (d > 0) LockSupport.parkNanos((long) (d * 1e9));
                double n = now();
                samplerLag.add(Math.max(0, n - due));
                samples.add(String.format(Locale.ROOT, "%.4f,%d,%d,%d,%d", n, mx.getTotalConnections(),
                        mx.getIdleConnections(), mx.getActiveConnections(), mx.getThreadsAwaitingConnection()));
                long g = gcs.stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
                gcMaxMs[0] = Math.max(gcMaxMs[0], g - lastGc);
                lastGc = g;
            }
        });
        sampler.setDaemon(true);
        sampler.start();

        for (Rec r : recs) {
            double d = r.arrival - now();
            if (d > 0) LockSupport.parkNanos((long) (d * 1e9));
            workers.execute(() -> handle(ds, r));
        }
        workers.shutdown();
        workers.awaitTermination(1, TimeUnit.HOURS);
        stop.set(true);
        sampler.join();
        double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
        long gcMs = gcs.stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum() - gc0;
        long gcN = gcs.stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum() - gcn0;
        ds.close();

        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out.resolve("requests.csv")))) {
            w.println("id,arrival_s,start_s,acquire_start_s,acquired_s,query_done_s,released_s,ended_s,outcome,backend_pid");
            for (Rec r : recs)
                w.println(r.id + "," + t(r.arrival) + "," + t(r.start) + "," + t(r.acqStart) + "," + t(r.acquired)
                        + "," + t(r.queryDone) + "," + t(r.released) + "," + t(r.ended) + "," + r.outcome + ","
                        + (r.pid < 0 ? "" : Long.toString(r.pid)));
        }
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out.resolve("attempts.csv")))) {
            w.println("start_s,connected_s,created_s,outcome,backend_pid,thread,error");
            for (Attempt a : attempts)
                w.println(ts(a.start) + "," + ts(a.connected) + "," + ts(a.created) + "," + a.outcome + ","
                        + (a.pid < 0 ? "" : Long.toString(a.pid)) + "," + a.thread.replace(',', ' ') + "," + a.error);
        }
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out.resolve("samples.csv")))) {
            w.println("t_s,total,idle,in_use,waiting");
            samples.forEach(w::println);
        }
        samplerLag.sort(null);
        StringBuilder ct = new StringBuilder();
        for (double x : connectTimes) ct.append(ct.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.6f", x));
        double lag99 = samplerLag.isEmpty() ? 0 : samplerLag.get(Math.min(samplerLag.size() - 1, (int) (0.99 * samplerLag.size())));
        String meta = String.format(Locale.ROOT, "{\n \"library\": \"hikaricp\", \"version\": \"%s\", \"language\": \"java %s\",\n"
                + " \"t0_epoch\": %.3f,\n \"connections_opened_library\": %d, \"connections_closed_library\": %d,\n"
                + " \"connect_times_s\": [%s],\n \"noise\": {\"sampler_lag_p99_ms\": %.3f, \"cpu_user_s\": %.3f,"
                + " \"gc_pauses\": %d, \"gc_pause_total_ms\": %d, \"gc_pause_max_ms\": %.1f, \"loadavg_1m_end\": %.2f}\n}\n",
                System.getProperty("reality.version", "?"), System.getProperty("java.version"),
                t0Epoch / 1000.0, connects.get(), closes.get(), ct, 1e3 * lag99, cpu, gcN, gcMs, gcMaxMs[0],
                os.getSystemLoadAverage());
        Files.writeString(out.resolve("meta.json"), meta);
        System.exit(0);
    }

    static final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();

    static void handle(HikariDataSource ds, Rec r) {
        r.start = now();
        r.acqStart = now();
        try (Connection c = ds.getConnection()) {
            r.acquired = now();
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT pg_backend_pid() FROM pg_sleep(" + r.hold + ")")) {
                rs.next();
                r.pid = rs.getLong(1);
                r.queryDone = now();
                r.outcome = "ok";
            } catch (SQLException e) {
                r.outcome = "query_error";
            }
        } catch (SQLTransientConnectionException e) {
            r.outcome = Double.isNaN(r.acquired) ? "acquire_timeout" : "query_error";
        } catch (SQLException e) {
            r.outcome = Double.isNaN(r.acquired) ? "connect_error" : "query_error";
        }
        if (!Double.isNaN(r.acquired)) r.released = now();
        r.ended = now();
    }
}
