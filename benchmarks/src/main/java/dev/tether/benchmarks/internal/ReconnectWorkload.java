package dev.tether.benchmarks.internal;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The contender's side of the side-by-side reconnect runs: one client of the library under test,
 * connected through the harness's fault proxy with the library's automatic reconnect at one fixed
 * delay. For each trial it prints {@code CUT <i>} once the connection has been idle for
 * {@link #IDLE}; the harness then resets every proxied connection (RST) and notes the time. The
 * contender prints {@code LOST <i> <nanos>} and {@code BACK <i> <nanos>} when the library reports
 * the loss and the new CONNACK ({@link System#nanoTime()}: one monotonic clock for every process on
 * Linux). No traffic, no subscription: the time is the library's reconnect alone.
 */
final class ReconnectWorkload {

    static final String CUT_LINE = "CUT";
    static final String LOST_LINE = "LOST";
    static final String BACK_LINE = "BACK";
    /** The clock check: the contender's {@link System#nanoTime()} right after start. */
    static final String CLOCK_LINE = "CLOCK";
    /** The fixed reconnect delay both libraries are given. */
    static final Duration BACKOFF = Duration.ofMillis(100);
    /**
     * Cuts before the measured ones, not counted: the first reconnects of a JVM run its failure and
     * connect paths cold (interpreted code, class loading) for either library.
     */
    static final int WARM_CUTS = 3;
    /** Idle time before each cut, so the previous reconnect's work is done. */
    static final Duration IDLE = Duration.ofMillis(150);
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(10);

    private ReconnectWorkload() {
    }

    static Map<String, Double> run(String driverName, String host, int port, int trials, Duration backoff) throws Exception {
        System.out.println(CLOCK_LINE + " " + System.nanoTime());
        BlockingQueue<Long> lost = new LinkedBlockingQueue<>();
        BlockingQueue<Long> back = new LinkedBlockingQueue<>();
        int done = 0;
        Probe measured = null;
        Probe end;
        long cpuFrom = -1;
        long cpuTo;
        try (MqttDriver driver = MqttDriver.load(driverName)) {
            driver.connectReconnecting(host, port, "bench-rc-" + UUID.randomUUID().toString().substring(0, 8), backoff,
                    lost::offer, back::offer);
            if (back.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) == null) {
                throw new IllegalStateException("no first CONNACK within " + STEP_TIMEOUT);
            }
            for (int i = 0; i < trials; i++) {
                Thread.sleep(IDLE.toMillis());
                if (i == WARM_CUTS) {
                    // In this order, so the allocation window does not count the CPU reading's own garbage.
                    cpuFrom = Probe.liveThreadsCpuNanos();
                    measured = Probe.now();
                }
                lost.clear();
                back.clear();
                System.out.println(CUT_LINE + " " + i);
                System.out.flush();
                Long down = lost.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                Long up = back.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (down == null || up == null) {
                    throw new IllegalStateException("trial " + i + ": no " + (down == null ? "loss" : "new CONNACK")
                            + " reported within " + STEP_TIMEOUT);
                }
                System.out.println(LOST_LINE + " " + i + " " + down);
                System.out.println(BACK_LINE + " " + i + " " + up);
                System.out.flush();
                done++;
            }
            end = Probe.now();
            cpuTo = Probe.liveThreadsCpuNanos();
        }
        Map<String, Double> result = new LinkedHashMap<>();
        result.put("trials", (double) done);
        if (measured != null) {
            // The whole process over the measured cuts (idle waits included): what a reconnect costs the JVM, its
            // compiler threads and collector included. An idle client costs next to nothing between cuts.
            int counted = done - WARM_CUTS;
            // The threads' own accounting where the kernel gives it (nanoseconds; the process's CPU time counts 10 ms
            // ticks, coarse over ten cuts), else the process's.
            result.put("cpu_ms_per_reconnect", cpuFrom >= 0 && cpuTo >= cpuFrom
                    ? (cpuTo - cpuFrom) / 1e6 / counted
                    : measured.cpuSecondsPerMillion(end, counted) / 1e3);
            result.put("alloc_bytes_per_reconnect", measured.bytesPerOperation(end, counted));
        }
        return result;
    }
}
