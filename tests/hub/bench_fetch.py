#!/usr/bin/env python3
"""bench_fetch.py - fetch throughput of one multi-GB LFS file from the local
hub server (hubserver.py, sendfile fast path) on loopback, in one run:

  floor: curl -o /dev/null        (what one connection pulls from this server, no disk)
  floor: io_floor write           (writing as many bytes, the fastest way the disk allows, synced)
  peer:  curl -o FILE             (plain curl writing the file)
  ours:  gptoss-convert fetch     (--connections 1 and 8: cache layout, sha256, fsync)

Each measured REPS times (after one warm-up of the server's page cache),
medians reported; JSON to OUT/fetch.json. Used by `make -f Makefile.bench
bench-fetch` (bench/fetch.mk); never part of the tests."""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


CPU = {}  # name -> list of CPU seconds (user + sys) of the measured command
CACHE = {}  # name -> list of page-cache growth (Cached + Dirty, MB) over the command


def meminfo_mb():
    m = {}
    for line in open("/proc/meminfo"):
        k, v = line.split(":")
        m[k] = int(v.split()[0]) / 1024
    return m.get("Cached", 0) + m.get("Dirty", 0)


def timed(cmd, env=None, name=None):
    r0 = os.times()
    c0 = meminfo_mb()
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    r1 = os.times()
    if p.returncode != 0:
        sys.exit("bench-fetch: %s failed: %s" % (cmd[0], p.stderr[-2000:]))
    if name:
        CPU.setdefault(name, []).append((r1.children_user - r0.children_user) + (r1.children_system - r0.children_system))
        CACHE.setdefault(name, []).append(meminfo_mb() - c0)
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default=None)
    ap.add_argument("--gb", type=float, default=2.0)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    exe = os.path.abspath(os.path.join(a.bin, "gptoss-convert"))
    work = os.path.abspath(a.work or os.path.join(a.out, "fetch-work"))
    shutil.rmtree(work, ignore_errors=True)
    repo = os.path.join(work, "srv", "repos", "bench", "big")
    os.makedirs(repo)
    size = int(a.gb * 1e9) // (1 << 20) * (1 << 20)
    name = "model-00001-of-00001.safetensors"
    src = os.path.join(repo, name)
    with open(src, "wb") as f:  # incompressible, so no layer can cheat
        block = os.urandom(64 << 20)
        left = size
        i = 0
        while left:
            n = min(left, len(block))
            f.write(block[:n] if i % 2 == 0 else block[n - 1::-1])
            left -= n
            i += 1
    with open(os.path.join(repo, "config.json"), "w") as f:
        f.write("{}")
    srv = subprocess.Popen([sys.executable, os.path.join(HERE, "hubserver.py"), "--root", os.path.join(work, "srv")])
    try:
        for _ in range(6000):  # the server hashes the file at start
            if os.path.exists(os.path.join(work, "srv", "ports")):
                break
            time.sleep(0.05)
        hub_port, _ = map(int, open(os.path.join(work, "srv", "ports")).read().split())
        endpoint = "http://127.0.0.1:%d" % hub_port
        url = "%s/bench/big/resolve/main/%s" % (endpoint, name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        env.update(HF_ENDPOINT=endpoint, HF_HOME=os.path.join(work, "hfhome"))
        dest = os.path.join(work, "curl.out")
        curl_null = ["curl", "-sSfL", "-o", "/dev/null", url]
        curl_file = ["curl", "-sSfL", "-o", dest, url]
        timed(curl_null)  # warm the page cache of the served file
        # the disk's floor: writing the same byte count the fastest way this
        # machine allows (tests/bench/io_floor.c: the faster of large buffered
        # writes + fsync and O_DIRECT with 1 GiB in flight); it was dd of the
        # served file, which also read it and went through the page cache
        floor = [os.path.join(a.bin, "io_floor"), "-b", str(256 << 20), "-q", "4", "write", str(size), dest]
        load0 = os.getloadavg()
        res = {"floor_curl_devnull": [], "floor_disk_write": [], "peer_curl_file": [], "ours_c1": [], "ours_c8": []}
        for _ in range(a.reps):
            res["floor_curl_devnull"].append(timed(curl_null))
            out = subprocess.run(floor, env=dict(os.environ, COLD="0"), capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit("bench-fetch: io_floor failed: " + out.stderr)
            res["floor_disk_write"].append(float(out.stdout.split()[0].split("=")[1]))
            res["peer_curl_file"].append(timed(curl_file, name="peer_curl_file"))
            os.unlink(dest)
            for c in (1, 8):
                shutil.rmtree(os.path.join(work, "hfhome"), ignore_errors=True)
                res["ours_c%d" % c].append(timed([exe, "fetch", "bench/big", "--no-progress", "--connections",
                                                  str(c), "--include", name], env=env, name="ours_c%d" % c))
            shutil.rmtree(os.path.join(work, "hfhome"), ignore_errors=True)
        med = {k: statistics.median(v) for k, v in res.items()}
        gbps = {k: size / v / 1e9 for k, v in med.items()}
        # the floor of a fetch: the network and the disk at once, the slower decides
        fl = max(med["floor_curl_devnull"], med["floor_disk_write"])
        report = {
            "machine": "%s, %d cores, %s" % (platform.node(), os.cpu_count(), platform.platform()),
            "loadavg_start": load0, "loadavg_end": os.getloadavg(),
            "bytes": size, "reps": a.reps, "seconds": res, "median_s": med, "median_GBps": gbps,
            "ours_c8_vs_curl": gbps["ours_c8"] / gbps["peer_curl_file"],
            "ours_c1_vs_curl": gbps["ours_c1"] / gbps["peer_curl_file"],
            "floor_s": fl, "ours_c1_over_floor": med["ours_c1"] / fl, "ours_c8_over_floor": med["ours_c8"] / fl,
            "median_cpu_s": {k: statistics.median(v) for k, v in CPU.items()},
            "median_page_cache_growth_mb": {k: statistics.median(v) for k, v in CACHE.items()},
        }
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "fetch.json"), "w") as f:
            json.dump(report, f, indent=1)
        print("bench-fetch: %.2f GB file from 127.0.0.1, median of %d (load average %.1f -> %.1f on %d cores)"
              % (size / 1e9, a.reps, load0[0], report["loadavg_end"][0], os.cpu_count()))
        for k in res:
            extra = ""
            if k in CPU:
                extra = "  CPU %5.2f s, page cache +%5.0f MB" % (report["median_cpu_s"][k],
                                                                report["median_page_cache_growth_mb"][k])
            print("  %-20s %6.2f s  %6.2f GB/s%s" % (k, med[k], gbps[k], extra))
        print("  ours (8 connections) / curl -o FILE = %.2fx ; ours (1) / curl = %.2fx"
              % (report["ours_c8_vs_curl"], report["ours_c1_vs_curl"]))
        print("  floor (slower of network and disk) %.2f s: ours / floor = %.2fx (1 connection), %.2fx (8)"
              % (fl, report["ours_c1_over_floor"], report["ours_c8_over_floor"]))
    finally:
        srv.terminate()
        srv.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
