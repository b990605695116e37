package dev.tether.benchmarks.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Process CPU time and bytes allocated by all live threads, read at the edges of a measured window.
 * Allocation counts of threads that end inside the window are lost, so the figure is a lower bound.
 */
record Probe(long cpuNanos, long allocatedBytes, long wallNanos) {

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
        return new Probe(cpu, allocated, System.nanoTime());
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
