package dev.tether.benchmarks.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Process CPU time and bytes allocated by all live threads, read at the edges of a measured window.
 * Allocation counts of threads that end inside the window are lost, so the figure is a lower bound.
 * On Linux also the user and kernel ticks of the core this process is pinned to (from {@code /proc/stat}, whose
 * per-core counters are the kernel's own samples: a process's {@code utime}/{@code stime} split is rescaled over
 * its whole life and cannot be read over a window), and the broker's CPU ticks when its process id is known
 * ({@code utime + stime} of {@code /proc/<pid>/stat}, whose sum is exact); -1 when unknown.
 */
record Probe(long cpuNanos, long allocatedBytes, long writeCalls, long wallNanos, long coreUserTicks, long coreKernelTicks,
             long brokerTicks) {

    /** The one core this process may run on (the harness pins contenders with taskset), or -1. */
    static final int OWN_CORE = pinnedCore();

    /** Clock ticks per second of {@code /proc/<pid>/stat}'s CPU fields (USER_HZ, 100 on every Linux build). */
    static final double TICKS_PER_SECOND = 100;

    static Probe now() {
        return now(-1);
    }

    /** @param brokerPid the broker's process id, or -1 when it is not a process of its own */
    static Probe now(long brokerPid) {
        long cpu = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            cpu = os.getProcessCpuTime();
        }
        long allocated = -1;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (threads instanceof com.sun.management.ThreadMXBean sun && sun.isThreadAllocatedMemorySupported()) {
            long sum = 0;
            for (long bytes : sun.getThreadAllocatedBytes(threads.getAllThreadIds())) {
                if (bytes > 0) {
                    sum += bytes;
                }
            }
            allocated = sum;
        }
        long[] own = coreTicks(OWN_CORE);
        long[] broker = brokerPid > 0 ? cpuTicks(Long.toString(brokerPid)) : new long[] {-1, -1};
        return new Probe(cpu, allocated, readWriteCalls(), System.nanoTime(), own[0], own[1],
                broker[0] < 0 ? -1 : broker[0] + broker[1]);
    }

    /**
     * @return the CPU time of this process's live threads in nanoseconds, summed from the scheduler's per-thread
     *         accounting ({@code /proc/self/task/<tid>/schedstat}, exact where the process's own CPU time counts
     *         10 ms ticks), or -1 where it cannot be read; threads that ended are not counted
     */
    static long liveThreadsCpuNanos() {
        java.nio.file.Path tasks = java.nio.file.Path.of("/proc/self/task");
        long sum = 0;
        try (java.util.stream.Stream<java.nio.file.Path> all = java.nio.file.Files.list(tasks)) {
            for (java.nio.file.Path task : (Iterable<java.nio.file.Path>) all::iterator) {
                try {
                    String stat = java.nio.file.Files.readString(task.resolve("schedstat")).trim();
                    sum += Long.parseLong(stat.substring(0, stat.indexOf(' ')));
                } catch (java.nio.file.NoSuchFileException ended) {
                    // the thread ended while the list was read
                }
            }
            return sum;
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /** @return user (with nice) and kernel (system, irq, softirq) ticks of one core from {@code /proc/stat}, or -1s */
    static long[] coreTicks(int core) {
        if (core < 0) {
            return new long[] {-1, -1};
        }
        try {
            String prefix = "cpu" + core + " ";
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat"))) {
                if (line.startsWith(prefix)) {
                    String[] f = line.substring(prefix.length()).trim().split("\\s+");
                    return new long[] {Long.parseLong(f[0]) + Long.parseLong(f[1]),
                            Long.parseLong(f[2]) + Long.parseLong(f[5]) + Long.parseLong(f[6])};
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // Not Linux: unknown.
        }
        return new long[] {-1, -1};
    }

    /** @return the only CPU in this process's {@code Cpus_allowed_list}, or -1 when it may run on several */
    static int pinnedCore() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    String list = line.substring("Cpus_allowed_list:".length()).trim();
                    return list.matches("\\d+") ? Integer.parseInt(list) : -1;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // Not Linux: unknown.
        }
        return -1;
    }

    /** @return user and system CPU ticks of a process ({@code utime}, {@code stime}), or -1s */
    static long[] cpuTicks(String pid) {
        try {
            return parseTicks(java.nio.file.Files.readString(java.nio.file.Path.of("/proc", pid, "stat")));
        } catch (java.io.IOException | RuntimeException e) {
            return new long[] {-1, -1};
        }
    }

    /** @return {@code utime} and {@code stime} (fields 14 and 15) of a {@code /proc/<pid>/stat} line */
    static long[] parseTicks(String stat) {
        // The command name (field 2) is in parentheses and may hold spaces and parentheses: fields after the last ')'.
        String[] f = stat.substring(stat.lastIndexOf(')') + 1).trim().split(" ");
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    }

    /** @return write-family system calls of this process so far ({@code syscw} in /proc/self/io), or -1 */
    static long readWriteCalls() {
        java.nio.file.Path io = java.nio.file.Path.of("/proc/self/io");
        try {
            for (String line : java.nio.file.Files.readAllLines(io)) {
                if (line.startsWith("syscw:")) {
                    return Long.parseLong(line.substring(6).trim());
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // Not Linux or not readable: unknown.
        }
        return -1;
    }

    /** @return write system calls per operation between this and {@code end}, or NaN if unknown */
    double writeCallsPerOperation(Probe end, long operations) {
        if (writeCalls < 0 || end.writeCalls < 0 || operations <= 0) {
            return Double.NaN;
        }
        return (double) (end.writeCalls - writeCalls) / operations;
    }

    /** @return CPU seconds per million operations between this and {@code end}, or NaN if unknown */
    double cpuSecondsPerMillion(Probe end, long operations) {
        if (cpuNanos < 0 || end.cpuNanos < 0 || operations <= 0) {
            return Double.NaN;
        }
        return (end.cpuNanos - cpuNanos) / 1e9 / operations * 1e6;
    }

    /** @return bytes allocated per operation between this and {@code end}, or NaN if unknown */
    double bytesPerOperation(Probe end, long operations) {
        if (allocatedBytes < 0 || end.allocatedBytes < 0 || operations <= 0) {
            return Double.NaN;
        }
        return (double) (end.allocatedBytes - allocatedBytes) / operations;
    }

    /**
     * @return the kernel's share of the busy time of the core this process is pinned to between this and
     *         {@code end}, or NaN (not pinned to one core, or not Linux)
     */
    double systemShare(Probe end) {
        if (coreUserTicks < 0 || end.coreUserTicks < 0) {
            return Double.NaN;
        }
        long total = (end.coreUserTicks + end.coreKernelTicks) - (coreUserTicks + coreKernelTicks);
        return total <= 0 ? Double.NaN : (double) (end.coreKernelTicks - coreKernelTicks) / total;
    }

    /** @return the broker's CPU seconds per million operations between this and {@code end}, or NaN if unknown */
    double brokerCpuSecondsPerMillion(Probe end, long operations) {
        if (brokerTicks < 0 || end.brokerTicks < 0 || operations <= 0) {
            return Double.NaN;
        }
        return (end.brokerTicks - brokerTicks) / TICKS_PER_SECOND / operations * 1e6;
    }

    /** @return the share of one core the broker used between this and {@code end}, or NaN if unknown */
    double brokerBusyShare(Probe end) {
        if (brokerTicks < 0 || end.brokerTicks < 0 || end.wallNanos <= wallNanos) {
            return Double.NaN;
        }
        return (end.brokerTicks - brokerTicks) / TICKS_PER_SECOND / ((end.wallNanos - wallNanos) / 1e9);
    }

    /** @return operations per second between this and {@code end} */
    double rate(Probe end, long operations) {
        return operations / ((end.wallNanos - wallNanos) / 1e9);
    }
}
