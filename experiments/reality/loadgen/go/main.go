// Load generator for Go's database/sql pool (with lib/pq), the same design as
// ../pyharness.py: trace `id,t_s,hold_s` in; requests.csv, samples.csv, meta.json and t0 out.
//
//	reality-go TRACE DSN OUT_DIR key=value...
//
// Keys, database/sql's own setters: maxOpenConns, maxIdleConns (default 2, as in
// database/sql), connMaxIdleTime_s, connMaxLifetime_s, and timeout_s (the acquire timeout: a
// context deadline on db.Conn). Each request does db.Conn(ctx), one query on it, conn.Close()
// (which returns it to the pool): the way code that needs its own connection uses the pool.
// Connections are counted by a driver.Connector wrapping lib/pq's.
//
// Built offline from Debian's packages: GOPATH=/usr/share/gocode GO111MODULE=off go build.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lib/pq"
)

var (
	t0           time.Time
	connects     int64
	closes       int64
	connectTimes []float64
	ctMu         sync.Mutex
)

func now() float64 { return time.Since(t0).Seconds() }

type countingConn struct {
	driver.Conn
	closed int32
}

func (c *countingConn) Close() error {
	if atomic.CompareAndSwapInt32(&c.closed, 0, 1) {
		atomic.AddInt64(&closes, 1)
	}
	return c.Conn.Close()
}

// QueryContext forwards to lib/pq's, so database/sql does not fall back to Prepare.
func (c *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

type countingConnector struct{ inner *pq.Connector }

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	s := time.Now()
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ctMu.Lock()
	connectTimes = append(connectTimes, time.Since(s).Seconds())
	ctMu.Unlock()
	atomic.AddInt64(&connects, 1)
	return &countingConn{Conn: conn}, nil
}
func (c countingConnector) Driver() driver.Driver { return c.inner.Driver() }

type rec struct {
	id                                                          int
	arrival, hold                                               float64
	start, acqStart, acquired, queryDone, released, ended       float64
	outcome                                                     string
	pid                                                         int64
}

func f(x float64) string {
	if x != x {
		return ""
	}
	return strconv.FormatFloat(x, 'f', 6, 64)
}

func main() {
	trace, dsn, out := os.Args[1], os.Args[2], os.Args[3]
	cfg := map[string]float64{"maxIdleConns": 2, "timeout_s": 30}
	for _, kv := range os.Args[4:] {
		k, v, _ := strings.Cut(kv, "=")
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "reality-go: %s: not a number: %q\n", k, v)
			os.Exit(2)
		}
		cfg[k] = x
	}
	os.MkdirAll(out, 0o755)
	recs := readTrace(trace)
	pc, err := pq.NewConnector(dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reality-go:", err)
		os.Exit(2)
	}
	db := sql.OpenDB(countingConnector{pc})
	db.SetMaxOpenConns(int(cfg["maxOpenConns"]))
	db.SetMaxIdleConns(int(cfg["maxIdleConns"]))
	if v, ok := cfg["connMaxIdleTime_s"]; ok {
		db.SetConnMaxIdleTime(time.Duration(v * 1e9))
	}
	if v, ok := cfg["connMaxLifetime_s"]; ok {
		db.SetConnMaxLifetime(time.Duration(v * 1e9))
	}
	timeout := time.Duration(cfg["timeout_s"] * 1e9)

	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	t0 = time.Now().Add(500 * time.Millisecond)
	os.WriteFile(filepath.Join(out, "t0"), []byte(fmt.Sprintf("%.6f\n", float64(t0.UnixNano())/1e9)), 0o644)

	var samples []string
	var samplerLag []float64
	stop := make(chan struct{})
	var sw sync.WaitGroup
	sw.Add(1)
	go func() {
		defer sw.Done()
		for k := 0; ; k++ {
			due := float64(k) * 0.1
			if d := due - now(); d > 0 {
				select {
				case <-stop:
					return
				case <-time.After(time.Duration(d * 1e9)):
				}
			}
			n := now()
			samplerLag = append(samplerLag, n-due)
			s := db.Stats()
			samples = append(samples, fmt.Sprintf("%.4f,%d,%d,%d,", n, s.OpenConnections, s.Idle, s.InUse))
			select {
			case <-stop:
				return
			default:
			}
		}
	}()

	var wg sync.WaitGroup
	for i := range recs {
		r := &recs[i]
		if d := r.arrival - now(); d > 0 {
			time.Sleep(time.Duration(d * 1e9))
		}
		wg.Add(1)
		go func() { defer wg.Done(); handle(db, r, timeout) }()
	}
	wg.Wait()
	close(stop)
	sw.Wait()
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	db.Close()

	w, _ := os.Create(filepath.Join(out, "requests.csv"))
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "id,arrival_s,start_s,acquire_start_s,acquired_s,query_done_s,released_s,ended_s,outcome,backend_pid")
	for _, r := range recs {
		pid := ""
		if r.pid > 0 {
			pid = strconv.FormatInt(r.pid, 10)
		}
		fmt.Fprintf(bw, "%d,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", r.id, f(r.arrival), f(r.start), f(r.acqStart),
			f(r.acquired), f(r.queryDone), f(r.released), f(r.ended), r.outcome, pid)
	}
	bw.Flush()
	w.Close()
	w, _ = os.Create(filepath.Join(out, "samples.csv"))
	fmt.Fprintln(w, "t_s,total,idle,in_use,waiting")
	fmt.Fprintln(w, strings.Join(samples, "\n"))
	w.Close()

	sort.Float64s(samplerLag)
	lag99 := 0.0
	if len(samplerLag) > 0 {
		lag99 = samplerLag[min(len(samplerLag)-1, int(0.99*float64(len(samplerLag))))]
	}
	maxPause := uint64(0)
	for _, p := range ms1.PauseNs {
		if p > maxPause {
			maxPause = p
		}
	}
	cts := make([]string, len(connectTimes))
	for i, x := range connectTimes {
		cts[i] = strconv.FormatFloat(x, 'f', 6, 64)
	}
	cpu := float64(ru1.Utime.Nano()-ru0.Utime.Nano()) / 1e9
	var load [3]float64
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscan(string(b), &load[0])
	}
	meta := fmt.Sprintf(`{"library": "go_database_sql", "version": "%s lib/pq", "language": "go",
 "t0_epoch": %.6f, "connections_opened_library": %d, "connections_closed_library": %d,
 "connect_times_s": [%s],
 "noise": {"sampler_lag_p99_ms": %.3f, "cpu_user_s": %.3f, "gc_pauses": %d,
  "gc_pause_total_ms": %.3f, "gc_pause_max_ms": %.3f, "loadavg_1m_end": %.2f}}
`, runtime.Version(), float64(t0.UnixNano())/1e9, atomic.LoadInt64(&connects), atomic.LoadInt64(&closes),
		strings.Join(cts, ", "), 1e3*lag99, cpu, ms1.NumGC-ms0.NumGC,
		float64(ms1.PauseTotalNs-ms0.PauseTotalNs)/1e6, float64(maxPause)/1e6, load[0])
	os.WriteFile(filepath.Join(out, "meta.json"), []byte(meta), 0o644)
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func handle(db *sql.DB, r *rec, timeout time.Duration) {
	r.start = now()
	r.acqStart = r.start
	defer func() { r.ended = now() }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			r.outcome = "acquire_timeout"
		} else {
			r.outcome = "connect_error"
		}
		return
	}
	r.acquired = now()
	q := fmt.Sprintf("SELECT pg_backend_pid() FROM pg_sleep(%g)", r.hold)
	if err := conn.QueryRowContext(context.Background(), q).Scan(&r.pid); err != nil {
		r.outcome = "query_error"
	} else {
		r.queryDone = now()
		r.outcome = "ok"
	}
	conn.Close()
	r.released = now()
}

func readTrace(path string) []rec {
	fh, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reality-go:", err)
		os.Exit(2)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Scan()
	var out []rec
	for sc.Scan() {
		p := strings.Split(strings.TrimSpace(sc.Text()), ",")
		if len(p) < 3 {
			continue
		}
		id, _ := strconv.Atoi(p[0])
		a, _ := strconv.ParseFloat(p[1], 64)
		h, _ := strconv.ParseFloat(p[2], 64)
		out = append(out, rec{id: id, arrival: a, hold: h, start: nan(), acqStart: nan(), acquired: nan(),
			queryDone: nan(), released: nan(), ended: nan(), outcome: "other"})
	}
	return out
}

func nan() float64 { z := 0.0; return z / z }
