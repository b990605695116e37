package dev.tether.benchmarks.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

    @Test
    void parsesOnlyResultLines() {
        Map<String, Double> into = new HashMap<>();
        ContenderProcess.parse("RESULT qos1.100.msgs_per_s 1234.5", into);
        ContenderProcess.parse("RESULT latency.p50_us NaN", into);
        ContenderProcess.parse("12:00:00 INFO something RESULT x 1", into);
        ContenderProcess.parse("RESULT broken value", into);
        assertThat(into).hasSize(2).containsEntry("qos1.100.msgs_per_s", 1234.5);
        assertThat(into.get("latency.p50_us")).isNaN();
    }

    @Test
    void writesBothReportsWithOneEntryPerMetricAndPeer(@TempDir Path dir) throws Exception {
        Settings quick = Settings.quickRun();
        List<Map<String, Map<String, Double>>> rounds = List.of(round(2.0), round(1.0), round(3.0));
        Map<String, Double> resilience = Map.of("cut.connack_overhead_ms", 5.0, "cut.first_message_overhead_ms", 25.0,
                "cut.lost", 0.0, "cut.duplicates", 3.0, "will.will_ms", 4.0);
        Map<Integer, List<Map<String, Map<String, Double>>>> idle = Map.of(1000, List.of(Map.of(
                "tether", Map.of("idle.heap_bytes_per_conn", 8000.0, "idle.rss_bytes_per_conn", 20000.0),
                "hivemq", Map.of("idle.heap_bytes_per_conn", 4000.0, "idle.rss_bytes_per_conn", 40000.0))));
        Map<String, Map<String, Double>> slow = Map.of(
                "tether", Map.of("slow.peak_heap_after_gc_mib", 20.0, "slow.peak_heap_sampled_mib", 90.0,
                        "slow.missing", 0.0, "slow.processed", 10_000.0, "slow.drain_s", 21.0, "slow.baseline_heap_mib", 6.0),
                "hivemq", Map.of("slow.peak_heap_after_gc_mib", 40.0, "slow.peak_heap_sampled_mib", 90.0,
                        "slow.missing", 0.0, "slow.processed", 10_000.0, "slow.drain_s", 21.0));
        List<Map<String, Map<String, Double>>> reconnects = List.of(
                Map.of("tether", Map.of("reconnect.overhead_ms", 4.0), "hivemq", Map.of("reconnect.overhead_ms", 8.0),
                        "floor", Map.of("reconnect.overhead_ms", 2.0)),
                Map.of("tether", Map.of("reconnect.overhead_ms", 3.0), "hivemq", Map.of("reconnect.overhead_ms", 9.0),
                        "floor", Map.of("reconnect.overhead_ms", 2.0)),
                Map.of("tether", Map.of("reconnect.overhead_ms", 4.5), "hivemq", Map.of("reconnect.overhead_ms", 9.0),
                        "floor", Map.of("reconnect.overhead_ms", 3.0)));
        Report report = Report.build(quick, rounds, reconnects, resilience, idle, slow, List.of("round 2, Paho: exited with 1"),
                "test broker", false, 42, Duration.ofSeconds(90), "", null);
        report.write(dir, "./tether bench --quick");

        String json = Files.readString(dir.resolve("latest.json"));
        assertThat(json).contains("\"date\"", "\"machine\"", "\"runs\": 3", "\"metrics\"",
                "\"peer_name\": \"HiveMQ client 1.4.2\"", "\"min_ratio\"", "\"max_ratio\"", "\"met\"",
                "\"ci_low\"", "\"ci_high\"", "\"verdict\"", "\"mode\": \"quick\"", "\"smoke_test\": true");
        Metric hivemq = find(report, "mqtt_qos1_puback_100B", "HiveMQ client 1.4.2");
        assertThat(hivemq.ratio()).isEqualTo(2.0);
        assertThat(hivemq.minRatio()).isEqualTo(1.0);
        assertThat(hivemq.maxRatio()).isEqualTo(3.0);
        // every round's values, in round order, for both sides
        assertThat(hivemq.tetherValues()).hasSize(3);
        assertThat(hivemq.peerValues()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(hivemq.tetherValues().get(i) / hivemq.peerValues().get(i)).isEqualTo(new double[] {2.0, 1.0, 3.0}[i]);
        }
        Metric sideBySide = find(report, "reconnect_overhead_after_rst", "HiveMQ client 1.4.2");
        assertThat(sideBySide.tetherValues()).containsExactly(4.0, 3.0, 4.5);
        assertThat(sideBySide.peerValues()).containsExactly(8.0, 9.0, 9.0);
        assertThat(json).contains("\"tether_values\": [4, 3, 4.5]", "\"peer_values\": [8, 9, 9]");
        // Rounds of 1x, 2x and 3x: the interval reaches below the 1.25x goal, so the goal is not shown.
        assertThat(hivemq.ciLow()).isLessThan(1.25);
        assertThat(hivemq.verdict()).isEqualTo(Metric.NOT_SHOWN);
        assertThat(hivemq.met()).isFalse();
        Metric reconnect = find(report, "reconnect_overhead_after_rst", "HiveMQ client 1.4.2");
        assertThat(reconnect.ratio()).isEqualTo(0.5);
        assertThat(reconnect.verdict()).isEqualTo(Metric.MET);
        Metric reconnectMs = report.metrics().stream()
                .filter(m -> m.name().equals("reconnect_overhead_after_rst") && m.peerName() == null).findFirst().orElseThrow();
        assertThat(reconnectMs.tether()).isEqualTo(4.0);
        assertThat(reconnectMs.verdict()).isEqualTo(Metric.MET);
        // The no-library floor: Tether's ratio to it (per round 2, 1.5, 1.5) and its own value, neither with a goal.
        Metric overFloor = find(report, "reconnect_overhead_after_rst", Contender.FLOOR.label());
        assertThat(overFloor.ratio()).isEqualTo(1.5);
        assertThat(overFloor.verdict()).isNull();
        Metric floor = report.metrics().stream()
                .filter(m -> m.name().equals("reconnect_overhead_after_rst_floor_no_library")).findFirst().orElseThrow();
        assertThat(floor.tether()).isEqualTo(2.0);
        assertThat(floor.verdict()).isNull();
        assertThat(report.metrics()).noneMatch(m -> m.peerName() != null && m.peerName().startsWith("Tether baseline"));
        Metric firstMessage = report.metrics().stream()
                .filter(m -> m.name().equals("reconnect_overhead_to_first_message_after_rst")).findFirst().orElseThrow();
        assertThat(firstMessage.met()).isFalse();
        assertThat(firstMessage.verdict()).isEqualTo("missed, 1 run");
        Metric heap = find(report, "mqtt_idle_heap_bytes_per_conn_at_1000", "HiveMQ client 1.4.2");
        assertThat(heap.ratio()).isEqualTo(2.0);
        assertThat(heap.met()).isFalse();
        assertThat(find(report, "mqtt_idle_rss_bytes_per_conn_at_1000", "HiveMQ client 1.4.2").met()).isTrue();
        Metric duplicates = report.metrics().stream()
                .filter(m -> m.name().equals("qos1_duplicates_across_rst_cuts")).findFirst().orElseThrow();
        assertThat(duplicates.met()).isNull();

        Metric slowBound = report.metrics().stream()
                .filter(m -> m.name().equals("mqtt_slow_consumer_10000x16KiB_peak_heap_after_gc") && m.peerName() == null)
                .findFirst().orElseThrow();
        assertThat(slowBound.tether()).isEqualTo(20.0);
        assertThat(slowBound.unit()).isEqualTo("MiB");
        assertThat(slowBound.target()).isEqualTo("bounded: < 64 MiB");
        assertThat(slowBound.met()).isTrue();
        Metric slowVsHive = find(report, "mqtt_slow_consumer_10000x16KiB_peak_heap_after_gc", "HiveMQ client 1.4.2");
        assertThat(slowVsHive.ratio()).isEqualTo(0.5);
        assertThat(slowVsHive.met()).isNull();

        // A peer whose run was cut short (its connection lost, messages missing) is not compared.
        Map<String, Map<String, Double>> cut = Map.of("tether", slow.get("tether"),
                "hivemq", Map.of("slow.peak_heap_after_gc_mib", 4.0, "slow.missing", 9_713.0, "slow.processed", 287.0));
        Report shortPeer = Report.build(quick, rounds, reconnects, resilience, idle, cut, List.of(), "test broker", false, 42,
                Duration.ofSeconds(90), "", null);
        Metric notCompared = find(shortPeer, "mqtt_slow_consumer_10000x16KiB_peak_heap_after_gc", "HiveMQ client 1.4.2");
        assertThat(notCompared.tether()).isEqualTo(20.0);
        assertThat(notCompared.ratio()).isNull();

        String md = Files.readString(dir.resolve("latest.md"));
        assertThat(md).contains("| Metric |", "./tether bench --quick", "FAILED: round 2, Paho", "smoke test",
                "95% interval", "**not shown**", "## Targets missed or not shown", "reconnect_overhead_to_first_message_after_rst", "Noise",
                "| mqtt_slow_consumer_10000x16KiB_peak_heap_after_gc | MiB | lower | 20.0 | — |", "Slow consumer: ");
        Report full = Report.build(Settings.full(), rounds, reconnects, resilience, idle, slow, List.of(), "test broker",
                false, 42, Duration.ofSeconds(90), "stopped after 3 of 10 rounds", null);
        assertThat(full.toMarkdown("./tether bench")).contains("stopped after 3 of 10 rounds");
        assertThat(full.toMarkdown("./tether bench")).doesNotContain("smoke test");
        assertThat(full.toJson()).contains("\"mode\": \"full\"", "\"smoke_test\": false");
    }

    private static Metric find(Report report, String name, String peer) {
        return report.metrics().stream().filter(m -> m.name().equals(name) && peer.equals(m.peerName()))
                .findFirst().orElseThrow();
    }

    /** Tether measures {@code factor} times each peer in every metric of this round. */
    private static Map<String, Map<String, Double>> round(double factor) {
        Map<String, Map<String, Double>> round = new LinkedHashMap<>();
        for (String id : List.of("hivemq", "paho3", "ws-netty")) {
            round.put(id, values(100.0));
        }
        round.put("tether", values(100.0 * factor));
        round.put("ws-tether", values(100.0 * factor));
        return round;
    }

    private static Map<String, Double> values(double v) {
        Map<String, Double> m = new HashMap<>();
        for (String key : List.of("qos0.100.msgs_per_s", "qos1.100.msgs_per_s", "qos0.1024.msgs_per_s",
                "qos1.1024.msgs_per_s", "qos1.100.cpu_s_per_million", "qos1.100.bytes_per_msg", "latency.p50_us",
                "stream.msgs_per_s", "pingpong.p50_us")) {
            m.put(key, v);
        }
        return m;
    }

    @Test
    void aBaselineBuildInTheReconnectRoundsGetsItsRatioRows() {
        List<Map<String, Map<String, Double>>> reconnects = List.of(
                Map.of("tether", Map.of("reconnect.overhead_ms", 4.0, "reconnect.detect_ms", 1.0),
                        Contender.BASELINE_CLASSPATH, Map.of("reconnect.overhead_ms", 5.0, "reconnect.detect_ms", 1.0)),
                Map.of("tether", Map.of("reconnect.overhead_ms", 3.0, "reconnect.detect_ms", 1.0),
                        Contender.BASELINE_CLASSPATH, Map.of("reconnect.overhead_ms", 6.0, "reconnect.detect_ms", 2.0)),
                Map.of("tether", Map.of("reconnect.overhead_ms", 4.0, "reconnect.detect_ms", 1.0),
                        Contender.BASELINE_CLASSPATH, Map.of("reconnect.overhead_ms", 5.0, "reconnect.detect_ms", 1.0)));
        Report report = Report.build(Settings.quickRun(), List.of(), reconnects, Map.of(), Map.of(), Map.of(), List.of(),
                "test broker", false, 42, Duration.ofSeconds(90), "", "Tether baseline abc1234");
        // Per round 0.8, 0.5, 0.8: the median ratio, and no goal on a row that compares two builds.
        Metric overhead = find(report, "reconnect_overhead_after_rst", "Tether baseline abc1234");
        assertThat(overhead.ratio()).isEqualTo(0.8);
        assertThat(overhead.verdict()).isNull();
        assertThat(find(report, "reconnect_rst_detected", "Tether baseline abc1234").ratio()).isEqualTo(1.0);
        assertThat(report.toMarkdown("./tether bench --only reconnect --baseline main")).contains("Tether baseline abc1234");
    }
}
