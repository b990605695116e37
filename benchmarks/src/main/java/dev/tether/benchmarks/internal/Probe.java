package dev.tether.benchmarks.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Process CPU time and bytes allocated by all live threads, read at the edges of a measured window.
 * Allocation counts of threads that end inside the window are lost, so the figure is a lower bound.
 */
record Probe(long cpuNanos, long allocatedBytes, long writeCalls, long wallNanos) {

    static Probe now() {
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
        return new Probe(cpu, allocated, readWriteCalls(), System.nanoTime());
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

    /** @return operations per second between this and {@code end} */
    double rate(Probe end, long operations) {
        return operations / ((end.wallNanos - wallNanos) / 1e9);
    }
}
