package dev.tether.benchmarks.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProbeTest {

    @Test
    void readsUserAndSystemTicksAfterACommandNameWithSpacesAndParentheses() {
        String stat = "4242 (mos quit) (to)) S 1 4242 4242 0 -1 4194560 1500 0 0 0 731 262 0 0 20 0 1 0 1000 "
                + "12345678 1024 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 0";
        assertThat(Probe.parseTicks(stat)).containsExactly(731, 262);
    }

    @Test
    void aCoreHasUserAndKernelTicksAndAnUnpinnedProcessHasNoShare() {
        long[] core0 = Probe.coreTicks(0);
        assertThat(core0[0]).isGreaterThanOrEqualTo(0);
        assertThat(core0[1]).isGreaterThanOrEqualTo(0);
        assertThat(Probe.coreTicks(-1)).containsExactly(-1, -1);
        assertThat(Probe.coreTicks(100_000)).containsExactly(-1, -1);
        Probe a = Probe.now();
        if (Probe.OWN_CORE < 0) {
            assertThat(a.coreUserTicks()).isEqualTo(-1);
            assertThat(a.systemShare(Probe.now())).isNaN();
        } else {
            assertThat(a.coreUserTicks()).isGreaterThanOrEqualTo(0);
        }
        assertThat(a.brokerTicks()).isEqualTo(-1);
        assertThat(a.brokerCpuSecondsPerMillion(Probe.now(), 10)).isNaN();
        assertThat(a.brokerBusyShare(Probe.now())).isNaN();
    }

    @Test
    void aBrokerProcessIsReadFromItsOwnStat() {
        long self = ProcessHandle.current().pid();
        Probe a = Probe.now(self);
        long spin = System.nanoTime() + 50_000_000L;
        double sink = 0;
        while (System.nanoTime() < spin) {
            sink += Math.sqrt(sink + 1);
        }
        Probe b = Probe.now(self);
        assertThat(sink).isPositive();
        assertThat(a.brokerTicks()).isGreaterThanOrEqualTo(0);
        assertThat(b.brokerTicks()).isGreaterThanOrEqualTo(a.brokerTicks());
        assertThat(a.brokerBusyShare(b)).isBetween(0.0, 2.5);
        assertThat(a.systemShare(b)).satisfiesAnyOf(v -> assertThat(v).isNaN(), v -> assertThat(v).isBetween(0.0, 1.0));
    }

    @Test
    void liveThreadsCpuCountsTheNanosecondsOfASpin() {
        long before = Probe.liveThreadsCpuNanos();
        long spin = System.nanoTime() + 30_000_000L;
        double sink = 0;
        while (System.nanoTime() < spin) {
            sink += Math.sqrt(sink + 1);
        }
        long after = Probe.liveThreadsCpuNanos();
        assertThat(sink).isPositive();
        if (java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/self/task"))) {
            // 30 ms of wall time spinning on this thread: at least some of it on a CPU, at most all the cores' worth
            assertThat(after - before).isGreaterThan(1_000_000L)
                    .isLessThan(30_000_000L * Runtime.getRuntime().availableProcessors() + 500_000_000L);
        } else {
            assertThat(before).isEqualTo(-1);
        }
    }
}
