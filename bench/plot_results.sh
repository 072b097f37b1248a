#!/usr/bin/env bash
# Draws the benchmark results as one PNG with gnuplot. Runs nothing but awk and gnuplot.
#
#   bench/plot_results.sh [results_dir] [out_png]
#       results_dir  default <repo>/build/release/bench/results (what bench/run_all.sh fills)
#       out_png      default <repo>/docs/performance.png
#
# Panels (each from the median over the repetitions in the CSV):
#   1. echo.csv (bench/run_echo_compare.sh): replies per second per case, wireframe vs the plain
#      Asio baseline, log scale (the cases differ by about 100x);
#   2. echo.csv: p50 round-trip latency per case;
#   3. resp.csv (bench/run_resp_compare.sh), only when that file exists: requests per second per
#      test and pipeline depth, resp_server vs redis-server, log scale.
# A panel whose CSV is missing is left out; with neither CSV there is nothing to draw (exit 1).
#
# Needs gnuplot: when it is missing, gnuplot-nox is installed with apt-get (needs root or sudo).
# Environment:
#   PLOT_TIMEOUT=60   seconds gnuplot may take before it is killed
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results=${1:-$repo/build/release/bench/results}
out=${2:-$repo/docs/performance.png}
PLOT_TIMEOUT=${PLOT_TIMEOUT:-60}

die() { echo "plot_results: $*" >&2; exit 1; }

[[ -d $results ]] || die "no results directory '$results' (run bench/run_all.sh first, or pass the directory)"
[[ $PLOT_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "PLOT_TIMEOUT must be a positive number of seconds"
echo_csv=$results/echo.csv
resp_csv=$results/resp.csv
has_rows() { [[ -f $1 ]] && (($(grep -c . "$1") > 1)); }  # a header and at least one row
has_echo=0 has_resp=0
has_rows "$echo_csv" && has_echo=1
has_rows "$resp_csv" && has_resp=1
((has_echo || has_resp)) || die "neither $echo_csv nor $resp_csv has any results"
((has_echo)) || echo "plot_results: NOTE: no results in $echo_csv: the echo panels are left out" >&2
((has_resp)) || echo "plot_results: NOTE: no results in $resp_csv: the Redis protocol panel is left out" >&2

if ! command -v gnuplot >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
    [[ -t 0 ]] || sudo=(sudo -n)  # no terminal to ask for a password on: fail rather than hang
  else
    die "gnuplot is not installed and this is neither root nor a user with sudo: install it (apt-get install gnuplot-nox)"
  fi
  echo "plot_results: gnuplot not found: installing gnuplot-nox with apt-get..." >&2
  apt_install() {
    timeout 900 "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends gnuplot-nox >/dev/null
  }
  apt_install || { timeout 900 "${sudo[@]}" apt-get update >/dev/null && apt_install; } ||
    die "could not install gnuplot-nox with apt-get (install gnuplot by hand)"
  command -v gnuplot >/dev/null 2>&1 || die "gnuplot-nox was installed but there is no gnuplot command"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Shared awk helpers: median of v[key, 1..n] (insertion sort: mawk has no asort), short labels.
# shellcheck disable=SC2016  # awk code: the $ are awk's
awk_lib='
  function median(key, n,   i, j, t, a) {
    for (i = 1; i <= n; i++) a[i] = v[key, i] + 0
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function short(x) {  # 2914 -> 2.91k, 270392 -> 270k, 1.2e6 -> 1.20M
    if (x >= 1e6) return sprintf("%.2fM", x / 1e6)
    if (x >= 1e5) return sprintf("%.0fk", x / 1e3)
    if (x >= 1e4) return sprintf("%.1fk", x / 1e3)
    if (x >= 1e3) return sprintf("%.2fk", x / 1e3)
    if (x >= 100) return sprintf("%.0f", x)
    return sprintf("%.1f", x)
  }
  function header(   i, f) {  # column index by name, quotes stripped
    for (i = 1; i <= NF; i++) { f = $i; gsub(/"|\r/, "", f); col[f] = i }
  }
  function need(name) { if (!(name in col)) { print "missing column " name > "/dev/stderr"; bad = 1; exit 1 } }
  function field(name,   f) { f = $(col[name]); gsub(/"|\r/, "", f); return f }
  function pow10_below(x) { return exp(log(10) * int(log(x) / log(10) - (x < 1 ? 1 : 0))) }
  function pow10_above(x,   p) { p = exp(log(10) * int(log(x) / log(10))); return p >= x ? p : p * 10 }
'

# Echo: one line of gnuplot per case into a datablock; tics, ranges and the run count as
# gnuplot variables.
if ((has_echo)); then
  awk -F, "$awk_lib"'
    NR == 1 { header(); need("case"); need("server"); need("frames_per_s"); need("p50_us")
              need("connections"); need("depth"); need("size"); next }
    NF < 2 { next }
    {
      c = field("case"); s = field("server"); k = c SUBSEP s; n[k]++
      v[k SUBSEP "fps", n[k]] = field("frames_per_s"); v[k SUBSEP "p50", n[k]] = field("p50_us")
      if (!(c in seen)) { seen[c] = 1; cases[++nc] = c }
      sz = field("size") + 0
      szs = (sz >= 1024 && sz % 1024 == 0) ? (sz / 1024 " KiB") : (sz " B")
      desc[c] = sprintf("%s: %s conn, depth %s\\n%s payload", c, field("connections"), field("depth"), szs)
      if (n[k] > runs) runs = n[k]
    }
    END {
      if (bad) exit 1
      for (i = 2; i <= nc; i++) { t = cases[i]; for (j = i - 1; j >= 1 && cases[j] > t; j--) cases[j + 1] = cases[j]; cases[j + 1] = t }
      fmin = 1e300; fmax = 0; pmax = 0
      print "$echo << EOD"
      for (i = 1; i <= nc; i++) {
        c = cases[i]; line = i - 1
        for (si = 1; si <= 2; si++) {
          s = si == 1 ? "wireframe" : "baseline"; k = c SUBSEP s
          if (k in n) {
            f[si] = median(k SUBSEP "fps", n[k]); p[si] = median(k SUBSEP "p50", n[k])
            fs[si] = f[si]; ps[si] = p[si]; fl[si] = short(f[si]); pl[si] = sprintf(p[si] >= 100 ? "%.0f" : "%.1f", p[si])
            if (f[si] > 0 && f[si] < fmin) fmin = f[si]
            if (f[si] > fmax) fmax = f[si]
            if (p[si] > pmax) pmax = p[si]
          } else { f[si] = 0; p[si] = 0; fs[si] = "NaN"; ps[si] = "NaN"; fl[si] = "n/a"; pl[si] = "n/a" }
        }
        line = line " " fs[1] " " fs[2] " " ps[1] " " ps[2] " \"" fl[1] "\" \"" fl[2] "\" \"" pl[1] "\" \"" pl[2] "\""
        print line
        rf = (f[1] > 0 && f[2] > 0) ? sprintf("%.2fx", f[1] / f[2]) : "n/a"
        rp = (p[1] > 0 && p[2] > 0) ? sprintf("%.2fx", p[1] / p[2]) : "n/a"
        tf = tf (i > 1 ? ", " : "") sprintf("\"%s\\nwireframe/baseline %s\" %d", desc[c], rf, i - 1)
        tp = tp (i > 1 ? ", " : "") sprintf("\"%s\\nwireframe/baseline %s\" %d", desc[c], rp, i - 1)
      }
      print "EOD"
      if (fmax <= 0) { fmin = 1; fmax = 10 }
      if (pmax <= 0) pmax = 1
      printf "echo_n = %d\necho_runs = %d\n", nc, runs
      printf "echo_fps_min = %.6g\necho_fps_max = %.6g\necho_p50_max = %.6g\n", pow10_below(fmin / 1.5), fmax * 3, pmax * 1.2
      printf "echo_fps_tics = \047set xtics (%s)\047\n", tf
      printf "echo_p50_tics = \047set xtics (%s)\047\n", tp
    }' "$echo_csv" >"$tmp/echo.gp" || die "could not read $echo_csv"
fi

# RESP: clusters (pipeline, test), pipelines ascending, tests in the order they appear.
if ((has_resp)); then
  awk -F, "$awk_lib"'
    NR == 1 { header(); need("server"); need("pipeline"); need("test"); need("rps"); next }
    NF < 2 { next }
    {
      s = field("server"); pl = field("pipeline") + 0; t = field("test"); k = t SUBSEP pl SUBSEP s
      n[k]++; v[k, n[k]] = field("rps")
      if (!(t in seen_t)) { seen_t[t] = 1; tests[++nt] = t }
      if (!(pl in seen_p)) { seen_p[pl] = 1; pipes[++np] = pl }
      if ("clients" in col) clients = field("clients")
      if (n[k] > runs) runs = n[k]
    }
    END {
      if (bad) exit 1
      for (i = 2; i <= np; i++) { x = pipes[i]; for (j = i - 1; j >= 1 && pipes[j] > x; j--) pipes[j + 1] = pipes[j]; pipes[j + 1] = x }
      rmin = 1e300; rmax = 0; idx = 0
      print "$resp << EOD"
      for (pi = 1; pi <= np; pi++) for (ti = 1; ti <= nt; ti++) {
        pl = pipes[pi]; t = tests[ti]
        for (si = 1; si <= 2; si++) {
          s = si == 1 ? "resp_server" : "redis"; k = t SUBSEP pl SUBSEP s
          if (k in n) {
            r[si] = median(k, n[k]); rs[si] = r[si]; rl[si] = short(r[si])
            if (r[si] > 0 && r[si] < rmin) rmin = r[si]
            if (r[si] > rmax) rmax = r[si]
          } else { r[si] = 0; rs[si] = "NaN"; rl[si] = "n/a" }
        }
        if (r[1] == 0 && r[2] == 0) continue
        printf "%d %s %s \"%s\" \"%s\"\n", idx, rs[1], rs[2], rl[1], rl[2]
        ratio = (r[1] > 0 && r[2] > 0) ? sprintf("%.2fx", r[1] / r[2]) : "n/a"
        tics = tics (idx > 0 ? ", " : "") sprintf("\"%s -P %s\\nresp_server/redis %s\" %d", t, pl, ratio, idx)
        idx++
      }
      print "EOD"
      if (rmax <= 0) { rmin = 1; rmax = 10 }
      printf "resp_n = %d\nresp_runs = %d\nresp_clients = \"%s\"\n", idx, runs, clients
      printf "resp_min = %.6g\nresp_max = %.6g\n", pow10_below(rmin / 1.5), rmax * 3
      printf "resp_tics = \047set xtics (%s)\047\n", tics
    }' "$resp_csv" >"$tmp/resp.gp" || die "could not read $resp_csv"
fi

if timeout 20 gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
  terminal="pngcairo size 1200,900 font 'Sans,10'"
else
  terminal="png size 1200,900 font 'Sans,10'"  # gnuplot built without cairo
fi

stamp=$(date -r "$( ((has_echo)) && echo "$echo_csv" || echo "$resp_csv")" '+%Y-%m-%d %H:%M')
host=$(uname -n)
cores=$(nproc 2>/dev/null || echo '?')

{
  echo "set terminal $terminal"
  echo "set output '$tmp/out.png'"
  echo "set encoding utf8"
  echo "set termoption noenhanced"  # test names contain underscores
  ((has_echo)) && cat "$tmp/echo.gp"
  ((has_resp)) && cat "$tmp/resp.gp"
  cat <<EOF
set style fill solid 0.85 border rgb '#333333'
set boxwidth 0.36
set grid ytics lc rgb '#dddddd' lt 1
set key outside top center horizontal samplen 2 width 2
set tics nomirror
set border 3
set xtics scale 0 font ',9'
set bmargin 4
c_wf = '#1f77b4'
c_other = '#ff7f0e'
set multiplot title "wireframe benchmarks: medians over repeated runs (results of $stamp, $host, $cores CPUs)" font ',13'
EOF
  if ((has_echo)); then
    if ((has_resp)); then
      echo "set size 0.5,0.48"
      echo "set origin 0,0.48"
    else
      echo "set size 0.5,0.96"
      echo "set origin 0,0"
    fi
    cat <<'EOF'
set title sprintf("Echo throughput, higher is better (median of %d runs)", echo_runs)
set ylabel 'frames (replies) per second, log scale'
set logscale y
set format y '%.0s%c'
set yrange [echo_fps_min:echo_fps_max]
set xrange [-0.6:echo_n - 0.4]
eval echo_fps_tics
plot $echo using ($1 - 0.19):2 with boxes lc rgb c_wf title 'wireframe (examples/echo_server)', \
     '' using ($1 + 0.19):3 with boxes lc rgb c_other title 'baseline (plain Asio)', \
     '' using ($1 - 0.19):2:6 with labels offset 0,0.6 font ',9' notitle, \
     '' using ($1 + 0.19):3:7 with labels offset 0,0.6 font ',9' notitle
EOF
    if ((has_resp)); then
      echo "set origin 0.5,0.48"
    else
      echo "set origin 0.5,0"
    fi
    cat <<'EOF'
set title sprintf("Echo p50 round-trip latency, lower is better (median of %d runs)", echo_runs)
set ylabel 'p50 latency (µs)'
unset logscale y
set format y '%g'
set yrange [0:echo_p50_max]
eval echo_p50_tics
plot $echo using ($1 - 0.19):4 with boxes lc rgb c_wf title 'wireframe (examples/echo_server)', \
     '' using ($1 + 0.19):5 with boxes lc rgb c_other title 'baseline (plain Asio)', \
     '' using ($1 - 0.19):4:8 with labels offset 0,0.6 font ',9' notitle, \
     '' using ($1 + 0.19):5:9 with labels offset 0,0.6 font ',9' notitle
EOF
  fi
  if ((has_resp)); then
    if ((has_echo)); then
      echo "set size 1,0.48"
      echo "set origin 0,0"
    else
      echo "set size 1,0.96"
      echo "set origin 0,0"
    fi
    cat <<'EOF'
set title sprintf("Redis protocol: requests per second, higher is better (redis-benchmark, %s clients, median of %d runs)", resp_clients, resp_runs)
set ylabel 'requests per second, log scale'
set logscale y
set format y '%.0s%c'
set yrange [resp_min:resp_max]
set xrange [-0.6:resp_n - 0.4]
eval resp_tics
plot $resp using ($1 - 0.19):2 with boxes lc rgb c_wf title 'resp_server (wireframe + RespCodec, 1 worker)', \
     '' using ($1 + 0.19):3 with boxes lc rgb c_other title 'redis-server', \
     '' using ($1 - 0.19):2:4 with labels offset 0,0.6 font ',9' notitle, \
     '' using ($1 + 0.19):3:5 with labels offset 0,0.6 font ',9' notitle
EOF
  fi
  echo "unset multiplot"
  echo "set output"
} >"$tmp/plot.gp"

timeout "$PLOT_TIMEOUT" gnuplot "$tmp/plot.gp" 2>"$tmp/gnuplot.err" || {
  cat "$tmp/gnuplot.err" >&2
  die "gnuplot failed or took longer than ${PLOT_TIMEOUT}s"
}
[[ -s $tmp/out.png ]] || { cat "$tmp/gnuplot.err" >&2; die "gnuplot wrote no image"; }
if [[ -s $tmp/gnuplot.err ]]; then
  sed 's/^/plot_results: gnuplot: /' "$tmp/gnuplot.err" >&2
fi
mkdir -p "$(dirname "$out")"
mv -f "$tmp/out.png" "$out"
echo "wrote $out"
