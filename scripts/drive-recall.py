#!/usr/bin/env python3
"""Hybrid/keyword recall against a running daemon, one keep-alive client: bench-style 2-3-word
queries over the `signet bench load` vocabulary, p50/p95/p99 and the daemon's CPU per recall.
For a workspace that already holds its memories (e.g. one kept by SIGNET_BENCH_KEEP=1).

    scripts/drive-recall.py PORT DAEMON_PID [QUERIES]
"""
import http.client, json, random, re, sys, time, os
port=int(sys.argv[1]); pid=int(sys.argv[2]); n=int(sys.argv[3]) if len(sys.argv)>3 else 1000
corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "signet", "src", "bench", "corpus.rs")
words = re.findall(r'^\s+"([^"]+)",$', open(corpus).read(), re.M)
rng=random.Random(0xfeed)
def w():
    a=rng.randrange(len(words)); b=rng.randrange(len(words)); return words[min(a,b)]
def times():  # (user, system) seconds of the daemon
    f=open(f'/proc/{pid}/stat').read().rsplit(')',1)[1].split()
    return int(f[11])/os.sysconf('SC_CLK_TCK'), int(f[12])/os.sysconf('SC_CLK_TCK')
def cpu():
    return sum(times())
c=http.client.HTTPConnection('127.0.0.1',port)
def q():
    body=json.dumps({"query":" ".join(w() for _ in range(2+rng.randrange(2))),"limit":10})
    t=time.perf_counter()
    c.request('POST','/api/memory/recall',body,{'content-type':'application/json'})
    r=c.getresponse(); data=r.read()
    dt=time.perf_counter()-t
    if r.status!=200: raise SystemExit(f"{r.status} {data[:300]}")
    return dt, json.loads(data)
for _ in range(50): q()
lat=[]; t0=times(); c0=sum(t0); warn=0; res=None
for _ in range(n):
    dt,res=q(); lat.append(dt)
    if res.get('warnings') or res.get('warning'): warn+=1
time.sleep(2.5)  # the daemon writes the recalls' access counts up to 2 s later: count that too
t1=times(); c1=sum(t1)
lat.sort()
p=lambda x: lat[min(len(lat)-1,int(x*len(lat)))]*1000
print(f"recall ({res.get('method')}), 1 client, {n} queries: p50 {p(.5):.2f} / p95 {p(.95):.2f} / p99 {p(.99):.2f} ms; daemon CPU {(c1-c0)/n*1000:.3f} ms/op (user {(t1[0]-t0[0])/n*1000:.3f}, system {(t1[1]-t0[1])/n*1000:.3f}); responses with warnings {warn}")
