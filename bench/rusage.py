#!/usr/bin/env python3
"""Runs a command and writes its wall seconds, user and system CPU seconds (microsecond
resolution, from wait4's rusage: GNU time rounds to 10 ms) and peak RSS in kB to the file
named first:  rusage.py OUT command [args...]"""
import os, sys, time

out, argv = sys.argv[1], sys.argv[2:]
start = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - start
with open(out, 'w') as f:
    f.write(f"{wall:.6f} {usage.ru_utime:.6f} {usage.ru_stime:.6f} {usage.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status) if os.waitstatus_to_exitcode(status) >= 0 else 128 - os.waitstatus_to_exitcode(status))
