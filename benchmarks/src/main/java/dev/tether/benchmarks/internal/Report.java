package dev.tether.benchmarks.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The results of a run as metrics (Tether against each peer, ratio per round, median, min, max,
 * target, met), written as {@code latest.json} and {@code latest.md}.
 */
public final class Report {

    private final String date;
    private final String machine;
    private final int runs;
    private final boolean quick;
    private final long seed;
    private final long seconds;
    private final List<Metric> metrics;
    private final List<String> notes;
    private final String stormSection;
    private final List<Object> stormJson;

    Report(String date, String machine, int runs, boolean quick, long seed, long seconds, List<Metric> metrics,
           List<String> notes, String stormSection, List<Object> stormJson) {
        this.stormSection = stormSection;
        this.stormJson = List.copyOf(stormJson);
        this.date = date;
        this.machine = machine;
        this.runs = runs;
        this.quick = quick;
        this.seed = seed;
        this.seconds = seconds;
        this.metrics = List.copyOf(metrics);
        this.notes = List.copyOf(notes);
    }

    static Report build(Settings settings, List<Map<String, Map<String, Double>>> rounds,
                        List<Map<String, Map<String, Double>>> reconnects, Map<String, Double> resilience,
                        Map<Integer, List<Map<String, Map<String, Double>>>> idle, Map<String, Map<String, Double>> slow,
                        List<String> failures, String broker, boolean pinned, long seed, Duration took,
                        String roundsStopped, @org.jspecify.annotations.Nullable String baselineLabel) {
        List<Metric> metrics = new ArrayList<>();
        List<Contender> peers = Contender.mqttContenders(settings.quick()).subList(1,
                Contender.mqttContenders(settings.quick()).size());
        for (int size : settings.allPayloads()) {
            for (boolean qos0 : new boolean[]{true, false}) {
                if (!settings.payloadsFor(Contender.TETHER, qos0).contains(size)) {
                    continue;
                }
                for (Contender peer : peers) {
                    if (settings.payloadsFor(peer.id(), qos0).contains(size)) {
                        metrics.add(throughput((qos0 ? "mqtt_qos0_e2e_" : "mqtt_qos1_puback_") + size + "B", rounds,
                                (qos0 ? "qos0." : "qos1.") + size + ".msgs_per_s", peer, qos0 && size == 100));
                    }
                }
            }
        }
        if (settings.payloads().contains(100)) {
            // The durable session store against Tether in memory, same run, same broker.
            metrics.add(Metric.compare("mqtt_qos1_puback_100B_durable_store_group_commit", "msgs/s", true,
                    series(rounds, Contender.TETHER, "qos1_store.100.msgs_per_s"), "Tether in memory",
                    series(rounds, Contender.TETHER, "qos1.100.msgs_per_s"), Metric.RatioTarget.AT_LEAST, 0.5,
                    ">= 0.5x in memory"));
            metrics.add(Metric.compare("mqtt_qos1_puback_100B_durable_store_forced_sync", "msgs/s", true,
                    series(rounds, Contender.TETHER, "qos1_store_sync.100.msgs_per_s"), "Tether in memory",
                    series(rounds, Contender.TETHER, "qos1.100.msgs_per_s"), Metric.RatioTarget.NONE, 0,
                    "reported as measured"));
        }
        int cpuSize = settings.payloads().contains(100) ? 100 : settings.payloads().get(0);
        for (Contender peer : peers) {
            boolean hivemq = peer.id().equals("hivemq");
            metrics.add(Metric.compare("mqtt_qos1_cpu_per_million_" + cpuSize + "B", "CPU s / 1M msgs", false,
                    series(rounds, Contender.TETHER, "qos1." + cpuSize + ".cpu_s_per_million"), peer.label(),
                    series(rounds, peer.id(), "qos1." + cpuSize + ".cpu_s_per_million"),
                    hivemq ? Metric.RatioTarget.AT_MOST : Metric.RatioTarget.NONE, 0.8, "<= 0.8x HiveMQ"));
        }
        for (Contender peer : peers) {
            boolean hivemq = peer.id().equals("hivemq");
            metrics.add(Metric.compare("mqtt_qos1_alloc_per_msg_" + cpuSize + "B", "bytes / msg", false,
                    series(rounds, Contender.TETHER, "qos1." + cpuSize + ".bytes_per_msg"), peer.label(),
                    series(rounds, peer.id(), "qos1." + cpuSize + ".bytes_per_msg"),
                    hivemq ? Metric.RatioTarget.AT_MOST : Metric.RatioTarget.NONE, 1.0, "<= 1.0x HiveMQ"));
        }
        for (String qos : List.of("qos0", "qos1")) {
            for (Contender peer : peers) {
                metrics.add(Metric.compare("mqtt_" + qos + "_write_syscalls_per_msg_" + cpuSize + "B", "syscalls / msg",
                        false, series(rounds, Contender.TETHER, qos + "." + cpuSize + ".write_calls_per_msg"),
                        peer.label(), series(rounds, peer.id(), qos + "." + cpuSize + ".write_calls_per_msg"),
                        Metric.RatioTarget.NONE, 0, ""));
            }
        }
        // What bounds the rows above: the broker's CPU per message (with its busy share, of one core, it says whether the
        // broker was the bottleneck) and the kernel's share of the client's own CPU. HiveMQ only: the goals name it.
        Contender hivemqPeer = peers.stream().filter(p -> p.id().equals("hivemq")).findFirst().orElse(null);
        for (String qos : List.of("qos0", "qos1")) {
            if (hivemqPeer == null) {
                break;
            }
            metrics.add(Metric.compare("mqtt_" + qos + "_broker_cpu_per_million_" + cpuSize + "B", "broker CPU s / 1M msgs",
                    false, series(rounds, Contender.TETHER, qos + "." + cpuSize + ".broker_cpu_s_per_million"),
                    hivemqPeer.label(), series(rounds, hivemqPeer.id(), qos + "." + cpuSize + ".broker_cpu_s_per_million"),
                    Metric.RatioTarget.NONE, 0, ""));
            metrics.add(Metric.compare("mqtt_" + qos + "_broker_busy_share_" + cpuSize + "B", "of one core", false,
                    series(rounds, Contender.TETHER, qos + "." + cpuSize + ".broker_busy_share"),
                    hivemqPeer.label(), series(rounds, hivemqPeer.id(), qos + "." + cpuSize + ".broker_busy_share"),
                    Metric.RatioTarget.NONE, 0, ""));
            metrics.add(Metric.compare("mqtt_" + qos + "_client_kernel_cpu_share_" + cpuSize + "B", "of client CPU", false,
                    series(rounds, Contender.TETHER, qos + "." + cpuSize + ".system_cpu_share"),
                    hivemqPeer.label(), series(rounds, hivemqPeer.id(), qos + "." + cpuSize + ".system_cpu_share"),
                    Metric.RatioTarget.NONE, 0, ""));
        }
        for (String p : List.of("p50", "p99", "p999")) {
            for (Contender peer : peers) {
                metrics.add(Metric.compare("mqtt_qos1_e2e_latency_" + p + "_at_" + settings.latencyRate() + "_per_s",
                        "µs", false, series(rounds, Contender.TETHER, "latency." + p + "_us"), peer.label(),
                        series(rounds, peer.id(), "latency." + p + "_us"), Metric.RatioTarget.NONE, 0, ""));
            }
        }
        metrics.add(Metric.compare("ws_stream_msgs_per_s_" + settings.wsPayload() + "B", "msg/s", true,
                series(rounds, "ws-tether", "stream.msgs_per_s"), "plain Reactor Netty",
                series(rounds, "ws-netty", "stream.msgs_per_s"), Metric.RatioTarget.AT_LEAST, 0.95,
                ">= 0.95x plain Reactor Netty"));
        metrics.add(Metric.compare("ws_stream_server_busy_share_" + settings.wsPayload() + "B", "of one core", false,
                series(rounds, "ws-tether", "stream.server_busy_share"), "plain Reactor Netty",
                series(rounds, "ws-netty", "stream.server_busy_share"), Metric.RatioTarget.NONE, 0, ""));
        for (String p : List.of("p50", "p99", "p999")) {
            metrics.add(Metric.compare("ws_pingpong_" + p, "µs", false, series(rounds, "ws-tether", "pingpong." + p + "_us"),
                    "plain Reactor Netty", series(rounds, "ws-netty", "pingpong." + p + "_us"), Metric.RatioTarget.NONE, 0, ""));
        }
        metrics.add(Metric.compare("reconnect_overhead_after_rst", "ms beyond backoff", false,
                series(reconnects, Contender.TETHER, "reconnect.overhead_ms"), HIVEMQ,
                series(reconnects, "hivemq", "reconnect.overhead_ms"), Metric.RatioTarget.AT_MOST, 1.0,
                "<= 1.0x HiveMQ"));
        metrics.add(Metric.absolute("reconnect_overhead_after_rst", "ms beyond backoff",
                series(reconnects, Contender.TETHER, "reconnect.overhead_ms"), 5, "< 5 ms"));
        metrics.add(Metric.compare("reconnect_overhead_after_rst", "ms beyond backoff", false,
                series(reconnects, Contender.TETHER, "reconnect.overhead_ms"), Contender.FLOOR.label(),
                series(reconnects, Contender.FLOOR.id(), "reconnect.overhead_ms"), Metric.RatioTarget.NONE, 0, ""));
        metrics.add(Metric.absolute("reconnect_overhead_after_rst_floor_no_library", "ms beyond backoff",
                series(reconnects, Contender.FLOOR.id(), "reconnect.overhead_ms"), 0, null));
        if (baselineLabel != null) {
            // Another build of Tether in the same rounds (--baseline): what a change bought, as a ratio.
            metrics.add(Metric.compare("reconnect_overhead_after_rst", "ms beyond backoff", false,
                    series(reconnects, Contender.TETHER, "reconnect.overhead_ms"), baselineLabel,
                    series(reconnects, Contender.BASELINE_CLASSPATH, "reconnect.overhead_ms"), Metric.RatioTarget.NONE, 0, ""));
            metrics.add(Metric.compare("reconnect_rst_detected", "ms", false,
                    series(reconnects, Contender.TETHER, "reconnect.detect_ms"), baselineLabel,
                    series(reconnects, Contender.BASELINE_CLASSPATH, "reconnect.detect_ms"), Metric.RatioTarget.NONE, 0, ""));
        }
        metrics.add(Metric.compare("reconnect_rst_detected", "ms", false,
                series(reconnects, Contender.TETHER, "reconnect.detect_ms"), HIVEMQ,
                series(reconnects, "hivemq", "reconnect.detect_ms"), Metric.RatioTarget.NONE, 0, ""));
        metrics.add(Metric.compare("reconnect_rst_detected", "ms", false,
                series(reconnects, Contender.TETHER, "reconnect.detect_ms"), Contender.FLOOR.label(),
                series(reconnects, Contender.FLOOR.id(), "reconnect.detect_ms"), Metric.RatioTarget.NONE, 0, ""));
        for (String[] cost : new String[][] {{"cpu_ms_per_reconnect", "CPU ms / reconnect"},
                {"alloc_bytes_per_reconnect", "bytes allocated / reconnect"}}) {
            // What a reconnect costs the whole contender JVM (compiler threads and collector included): a library
            // whose reconnect runs cold spends CPU a blocking socket does not.
            for (String[] peer : new String[][] {{"hivemq", HIVEMQ}, {Contender.FLOOR.id(), Contender.FLOOR.label()}}) {
                metrics.add(Metric.compare("reconnect_" + cost[0], cost[1], false,
                        series(reconnects, Contender.TETHER, "reconnect." + cost[0]), peer[1],
                        series(reconnects, peer[0], "reconnect." + cost[0]), Metric.RatioTarget.NONE, 0, ""));
            }
        }
        metrics.add(Metric.absolute("reconnect_overhead_to_connack_after_rst", "ms",
                one(resilience, "cut.connack_overhead_ms"), 20, "< 20 ms beyond backoff"));
        metrics.add(Metric.absolute("reconnect_overhead_to_first_message_after_rst", "ms",
                one(resilience, "cut.first_message_overhead_ms"), 20, "< 20 ms beyond backoff"));
        metrics.add(Metric.absolute("reconnect_overhead_to_resubscribed_after_rst", "ms",
                one(resilience, "cut.suback_overhead_ms"), 20, "< 20 ms beyond backoff"));
        metrics.add(Metric.absolute("blackhole_detected_by_keepalive", "ms", one(resilience, "blackhole.detect_ms"),
                ResilienceWorkloads.KEEP_ALIVE.plus(ResilienceWorkloads.PING_TIMEOUT).toMillis() + 100.0,
                "< keepalive + ping timeout + 100 ms"));
        metrics.add(Metric.absolute("reconnect_overhead_to_connack_after_blackhole", "ms",
                one(resilience, "blackhole.connack_overhead_ms"), 20, "< 20 ms beyond backoff"));
        metrics.add(Metric.absolute("qos1_lost_across_rst_cuts", "messages", one(resilience, "cut.lost"), 1, "0"));
        metrics.add(Metric.absolute("qos1_duplicates_across_rst_cuts", "messages", one(resilience, "cut.duplicates"),
                Double.POSITIVE_INFINITY, null));
        metrics.add(Metric.absolute("abort_to_will_delivered", "ms", one(resilience, "will.will_ms"), 100, "< 100 ms"));
        for (String jitter : List.of("none", "full", "equal")) {
            String prefix = "reconnect_storm_" + settings.stormClients() + "_clients_" + jitter + "_jitter_";
            metrics.add(Metric.absolute(prefix + "peak_attempts", "attempts / 100 ms",
                    one(resilience, "storm." + jitter + ".peak_per_100ms"), Double.POSITIVE_INFINITY, null));
            metrics.add(Metric.absolute(prefix + "mean_attempts", "attempts / 100 ms",
                    one(resilience, "storm." + jitter + ".mean_per_100ms"), Double.POSITIVE_INFINITY, null));
            metrics.add(Metric.absolute(prefix + "all_back", "ms",
                    one(resilience, "storm." + jitter + ".all_back_ms"), Double.POSITIVE_INFINITY, null));
            metrics.add(Metric.absolute(prefix + "attempts_per_client", "attempts",
                    one(resilience, "storm." + jitter + ".attempts_per_client"), Double.POSITIVE_INFINITY, null));
            // The simulator with the real run's model and measured latencies, against the real run: within 20%.
            for (String[] m : new String[][]{{"all_back_ms", "all_back"}, {"attempts_per_client", "attempts_per_client"}}) {
                metrics.add(Metric.compare("storm_simulated_vs_real_" + settings.stormClients() + "_clients_" + jitter
                                + "_jitter_" + m[1], "ratio", false, one(resilience, "sim.xcheck." + jitter + "." + m[0]),
                        "real-socket storm", one(resilience, "storm." + jitter + "." + m[0]), Metric.RatioTarget.WITHIN,
                        0.2, "0.8-1.2x the real run"));
            }
        }
        for (StormSimulator.Refusal refusal : StormSimulator.Refusal.values()) {
            // The largest storm simulated with this refusal; a refusal never simulated gets no rows.
            int n = -1;
            for (int size : settings.stormSizes()) {
                if (resilience.containsKey("sim." + refusal.label() + "." + size + ".full.all_back_s")) {
                    n = Math.max(n, size);
                }
            }
            if (n < 0) {
                continue;
            }
            String at = "sim." + refusal.label() + "." + n + ".";
            String name = "storm_simulated_" + n + "_clients_" + refusal.label() + "_tether_defaults_";
            for (String peer : List.of("hivemq", "none")) {
                String peerName = peer.equals("hivemq") ? "HiveMQ client default policy" : "Tether without jitter";
                metrics.add(Metric.compare(name + "all_back", "s", false, one(resilience, at + "full.all_back_s"), peerName,
                        one(resilience, at + peer + ".all_back_s"), Metric.RatioTarget.AT_MOST, 1.0, "< 1.0x (sooner)"));
                metrics.add(Metric.compare(name + "attempts_per_client", "attempts", false,
                        one(resilience, at + "full.attempts_per_client"), peerName,
                        one(resilience, at + peer + ".attempts_per_client"), Metric.RatioTarget.AT_MOST, 1.0,
                        "< 1.0x (fewer)"));
            }
            metrics.add(Metric.absolute(name + "all_back_over_ideal", "x N/C", one(resilience, at + "full.over_ideal"), 2.0,
                    "< 2x N/C"));
        }
        metrics.add(Metric.absolute("ws_server_heap_per_idle_session_at_" + settings.serverSessions(), "bytes",
                one(resilience, "wsserver.heap_bytes_per_session"), 16 * 1024, "< 16 KiB"));
        metrics.add(Metric.absolute("ws_server_rss_per_idle_session_at_" + settings.serverSessions(), "bytes",
                one(resilience, "wsserver.rss_bytes_per_session"), Double.POSITIVE_INFINITY, null));
        metrics.add(Metric.absolute("ws_server_stop_drain_" + settings.serverSessions() + "_sessions", "ms",
                one(resilience, "wsserver.drain_ms"), Double.POSITIVE_INFINITY, null));
        metrics.add(Metric.absolute("ws_server_stop_sessions_aborted", "sessions",
                one(resilience, "wsserver.drain_aborted"), Double.POSITIVE_INFINITY, null));
        idle.forEach((connections, runs) -> {
            for (String[] m : new String[][]{{"heap_bytes_per_conn", "heap bytes / conn"},
                    {"rss_bytes_per_conn", "RSS bytes / conn"}, {"threads_per_conn", "threads / conn"},
                    {"alloc_bytes_per_connect", "bytes allocated / connect"}}) {
                boolean memory = m[0].endsWith("_per_conn") && !m[0].startsWith("threads");
                metrics.add(Metric.compare((m[0].startsWith("alloc") ? "mqtt_" : "mqtt_idle_") + m[0] + "_at_" + connections,
                        m[1], false,
                        series(runs, Contender.TETHER, "idle." + m[0]), "HiveMQ client 1.4.2",
                        series(runs, "hivemq", "idle." + m[0]),
                        memory ? Metric.RatioTarget.AT_MOST : Metric.RatioTarget.NONE, 0.8, "<= 0.8x HiveMQ"));
            }
        });
        String slowName = "mqtt_slow_consumer_" + SlowConsumerWorkload.MESSAGES + "x"
                + SlowConsumerWorkload.PAYLOAD / 1024 + "KiB_";
        List<Map<String, Map<String, Double>>> slowRun = List.of(slow);
        metrics.add(Metric.absolute(slowName + "peak_heap_after_gc", "MiB",
                series(slowRun, Contender.TETHER, "slow.peak_heap_after_gc_mib"), SLOW_CONSUMER_BOUND_MIB,
                "bounded: < " + (int) SLOW_CONSUMER_BOUND_MIB + " MiB"));
        // Side by side only when both clients took the whole flood: a run cut short measured a smaller load.
        metrics.add(Metric.compare(slowName + "peak_heap_after_gc", "MiB", false,
                series(slowRun, Contender.TETHER, "slow.peak_heap_after_gc_mib"), HIVEMQ,
                complete(slow, "hivemq", "slow.peak_heap_after_gc_mib"), Metric.RatioTarget.NONE, 0, ""));
        metrics.add(Metric.compare(slowName + "heap_growth_after_gc", "MiB", false,
                growth(slow, Contender.TETHER), HIVEMQ, complete(slow, "hivemq", null), Metric.RatioTarget.NONE, 0, ""));
        metrics.add(Metric.compare(slowName + "peak_heap_sampled", "MiB", false,
                series(slowRun, Contender.TETHER, "slow.peak_heap_sampled_mib"), HIVEMQ,
                complete(slow, "hivemq", "slow.peak_heap_sampled_mib"), Metric.RatioTarget.NONE, 0, ""));
        metrics.add(Metric.absolute(slowName + "messages_missing", "messages",
                series(slowRun, Contender.TETHER, "slow.missing"), 1, "0"));
        metrics.add(Metric.compare(slowName + "drain", "s", false, series(slowRun, Contender.TETHER, "slow.drain_s"),
                HIVEMQ, complete(slow, "hivemq", "slow.drain_s"), Metric.RatioTarget.NONE, 0, ""));

        List<String> notes = new ArrayList<>();
        notes.add("Mode: " + (settings.quick() ? "quick (a smoke test, not the headline)" : "full (the headline)") + "; "
                + rounds.size() + " measured rounds (" + (settings.quick() ? "fixed" : "at least " + settings.minRounds()
                + ", at most " + settings.rounds() + ", as many as a budget of " + settings.budget().toSeconds()
                + " s leaves room for; they run last") + (roundsStopped.isEmpty() ? "" : "; " + roundsStopped)
                + "), contenders in random order each round (seed " + seed + ", `--seed` repeats the order); run took "
                + took.toSeconds() + " s.");
        notes.add("Broker: " + broker + ". Contender JVMs: " + String.join(" ", ContenderProcess.JVM_OPTIONS)
                + (pinned ? ", pinned to CPU 1 with taskset." : ", not pinned (taskset missing or one CPU)."));
        notes.add("MQTT: in-flight window " + settings.window() + " for every client; QoS 1 payloads "
                + settings.payloads() + " B and QoS 0 payloads " + settings.qos0Payloads() + " B for Tether and HiveMQ, "
                + settings.pahoPayloads() + " B for Paho v3" + (settings.quick() ? "" : " and "
                + settings.pahoPayloads().subList(0, 1) + " B for Paho v5") + "; per scenario a warm-up (discarded) of at "
                + "least " + settings.warmup().toMillis() + " ms that ends when " + SteadyWarmup.STEADY_WINDOWS
                + " consecutive " + SteadyWarmup.WINDOW.toMillis() + " ms windows agree within "
                + Math.round(SteadyWarmup.TOLERANCE * 100) + "% (at most " + settings.warmupMax().toMillis()
                + " ms; " + warmups(rounds) + "), then " + settings.measure().toMillis()
                + " ms measured. QoS 0 is end to end (publisher and subscriber "
                + "clients of the same library in one JVM; a window slot returns when the message arrives); QoS 1 "
                + "counts PUBACKs. Tether, HiveMQ and Paho v5 speak MQTT 5, Paho v3 speaks 3.1.1.");
        notes.add("Diagnostics: CPU seconds from the process CPU time, allocation from the JVM's per-thread "
                + "counters (lower bound), write syscalls from syscw in /proc/self/io (write/writev family; the QoS 0 "
                + "figure covers publisher and subscriber clients together), the kernel's share (system, irq, softirq) of the busy "
                + "ticks of the client's core (CPU 1, from /proc/stat; on loopback the kernel's TCP work for the peer's "
                + "receive runs there too) and the broker's CPU (utime + stime in /proc/<pid>/stat, 10 ms ticks; busy "
                + "share = broker CPU seconds per second, 1.0 is its whole core), all over the measured window.");
        notes.add("Latency: QoS 1 end to end, open loop at " + settings.latencyRate() + " msg/s offered, 100 B, "
                + settings.latency().toMillis() + " ms measured per round, HdrHistogram from the intended send time.");
        notes.add("WebSocket: both clients against the same Tether echo server in a JVM of its own (pinned to CPU 0, the "
                + "broker's core, when the clients are pinned); "
                + settings.wsPayload() + " B binary messages, window " + settings.window()
                + "; Tether's client runs under the core engine with its default heartbeat; each client hands its sends "
                + "over without a copy (Tether's WebSocketMessage.wrapBinary, Netty's Unpooled.wrappedBuffer) and gives "
                + "the workload each echo in a form that outlives the callback (Tether's message, which owns its bytes; "
                + "Netty's frame copied out); warm-up as for MQTT but at most "
                + settings.wsWarmupMax().toMillis() + " ms (each WebSocket JVM runs this one scenario from cold).");
        notes.add("Reconnect, side by side: Tether and HiveMQ's client, each in its own JVM, " + settings.reconnectRounds()
                + " rounds in random order, " + settings.reconnectTrials() + " RST cuts per JVM; one idle client (clean "
                + "start, no subscription, no traffic) through a fault proxy in the harness JVM; both libraries' own "
                + "automatic reconnect with one fixed delay of " + ReconnectWorkload.BACKOFF.toMillis() + " ms (Tether: "
                + "ReconnectPolicy without growth or jitter; HiveMQ: its disconnected listener's reconnector with that "
                + "delay, the mechanism under its automaticReconnect(), which would add ±25% jitter). Overhead = time "
                + "from the cut (harness) to the library's CONNACK callback (contender), minus the delay; one "
                + "monotonic clock serves both processes. Per JVM the median over the cuts; the ratio per round. "
                + "The floor row is a third JVM in the same rounds with no library: a blocking socket and a "
                + "hand-written CONNECT, the same proxy, broker and delay; what it takes is the harness's share.");
        notes.add("Resilience: Tether only, through the fault proxy, backoff " + ResilienceWorkloads.BACKOFF.toMillis()
                + " ms without jitter, " + settings.trials() + " RST cuts and " + settings.trials()
                + " aborts; values are medians; the persistent session keeps QoS 1 messages across cuts; a second "
                + "subscriber without a kept session times the resubscription (SUBACK); blackhole trials use keepalive "
                + ResilienceWorkloads.KEEP_ALIVE.toSeconds() + " s and ping timeout "
                + ResilienceWorkloads.PING_TIMEOUT.toMillis() + " ms, the proxy forwards again once the loss is seen. "
                + "QoS 1 duplicates are allowed by the protocol and shown for information.");
        notes.add("Reconnect storm: scaled down from 2,000 to " + settings.stormClients()
                + " Tether clients in one JVM (what this shared 2-core machine handles in the time budget); the fault "
                + "proxy resets every connection and refuses new ones for " + StormWorkload.OUTAGE.toMillis()
                + " ms, as a broker restart looks to the clients; backoff 100 ms doubling to 2 s. With a 100 ms first "
                + "delay every mode puts the first retry wave into one or two 100 ms buckets, so the peak mostly "
                + "shows that wave; jitter shows in the later waves, the mean and the time until all are back.");
        notes.add("WebSocket server: a Tether server in its own JVM with " + settings.serverSessions()
                + " idle sessions opened by plain Reactor Netty clients from the harness JVM; heap after three "
                + "System.gc() calls and RSS, before and after, per session; then stop() drains them all (close "
                + "frame 1001, bounded wait, abort).");
        notes.add("Idle connections: " + settings.idle() + " MQTT connections in one JVM per contender (Tether, "
                + "HiveMQ), " + settings.idleRuns() + " run(s) per count, the two contenders interleaved in random order; "
                + "after three System.gc() calls; per connection = (after the last - after the first) / (count - 1).");
        notes.add("Slow consumer: one subscriber JVM per client (Tether, HiveMQ; same JVM options), QoS 1, Receive "
                + "Maximum " + SlowConsumerWorkload.RECEIVE_MAXIMUM + " for both (Tether's default; HiveMQ's is 65535), "
                + "messages handed to one worker thread by the client's reactive API (Reactor publishOn / RxJava "
                + "observeOn, prefetch " + SlowConsumerWorkload.PREFETCH + "), " + SlowConsumerWorkload.WORK.toMillis()
                + " ms of CPU work per message on that worker; once subscribed, the harness JVM publishes "
                + String.format(Locale.ROOT, "%,d", SlowConsumerWorkload.MESSAGES) + " x "
                + SlowConsumerWorkload.PAYLOAD / 1024 + " KiB at QoS 1 as fast as the broker takes them. Peak heap "
                + "after GC = the largest used heap right after a collection pause (GC notifications), what the "
                + "client still referenced; heap growth after GC = that peak minus the heap after three System.gc() "
                + "calls just before the flood; peak heap sampled = the largest used heap sampled every "
                + SlowConsumerWorkload.SAMPLE_EVERY.toMillis() + " ms, garbage not yet collected included, so it "
                + "follows the collector's young-generation sizing more than the client. One run per client; HiveMQ's "
                + "values are shown only when it processed every message (see its contender log otherwise). "
                + slowSummary(slow));
        notes.add("Noise: a 2-core machine shared with other builds; single runs vary by tens of percent. "
                + "Read min/max before the median.");
        for (String f : failures) {
            notes.add("FAILED: " + f);
        }
        String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        List<Object> stormJson = new ArrayList<>();
        return new Report(date, Machine.describe(), rounds.size(), settings.quick(), seed, took.toSeconds(), metrics, notes,
                stormSection(settings, resilience, stormJson), stormJson);
    }

    /** The simulated storms as a Markdown section (empty when they did not run), and as JSON entries. */
    private static String stormSection(Settings settings, Map<String, Double> values, List<Object> json) {
        StringBuilder md = new StringBuilder();
        for (StormSimulator.Refusal refusal : StormSimulator.Refusal.values()) {
            for (int n : settings.stormSizes()) {
                for (StormSimulator.Backoff b : StormSimulation.backoffs()) {
                    String at = "sim." + refusal.label() + "." + n + "." + b.name() + ".";
                    Double allBack = values.get(at + "all_back_s");
                    if (allBack == null) {
                        continue;
                    }
                    if (md.length() == 0) {
                        md.append("\n## Reconnect storms, simulated\n\n")
                                .append("Virtual time, no sockets (`StormSimulator`): N clients lose the broker at once; the "
                                        + "broker admits C = ").append(String.format(Locale.ROOT, "%,.0f", StormSimulation.RATE))
                                .append(" connections per second (token bucket, burst of 100 ms worth) and refuses the rest "
                                        + "with CONNACK 0x9F (Tether waits at least 5 s), 0x89 (at least 1 s) or a refused "
                                        + "TCP connection; 1 ms round trip. Tether's policies are its defaults ("
                                        + "200 ms doubling to 30 s) with each jitter, computed by `ReconnectPolicy` itself, "
                                        + "with the verdicts' minimum delays; decorrelated jitter (same base and cap) and "
                                        + "HiveMQ's default (1 s doubling to 120 s, ±25%, no reason codes) for comparison. "
                                        + "Seed ").append(StormSimulation.SEED).append(". Ideal = N/C. Peak = the busiest "
                                        + "second's attempts over C.\n\n")
                                .append("| refusal | clients | policy | all back (s) | over N/C | attempts per client | "
                                        + "most attempts | peak over capacity | not back |\n")
                                .append("|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
                    }
                    md.append("| ").append(refusal.label()).append(" | ").append(String.format(Locale.ROOT, "%,d", n))
                            .append(" | ").append(b.name()).append(" | ").append(num(allBack))
                            .append(" | ").append(num(values.get(at + "over_ideal")))
                            .append(" | ").append(num(values.get(at + "attempts_per_client")))
                            .append(" | ").append(num(values.get(at + "max_attempts")))
                            .append(" | ").append(num(values.get(at + "peak_over_capacity")))
                            .append(" | ").append(num(values.get(at + "not_back"))).append(" |\n");
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("refusal", refusal.label());
                    e.put("clients", n);
                    e.put("policy", b.name());
                    for (String k : List.of("all_back_s", "ideal_s", "over_ideal", "attempts_per_client", "max_attempts",
                            "peak_over_capacity", "not_back")) {
                        e.put(k, values.get(at + k));
                    }
                    json.add(e);
                }
            }
        }
        return md.toString();
    }

    /** How many warm-ups reached a steady throughput, and the median warm-up. */
    private static String warmups(List<Map<String, Map<String, Double>>> rounds) {
        int steady = 0;
        int all = 0;
        List<Double> took = new ArrayList<>();
        for (Map<String, Map<String, Double>> round : rounds) {
            for (Map<String, Double> values : round.values()) {
                for (Map.Entry<String, Double> e : values.entrySet()) {
                    if (e.getKey().endsWith(".warmup_steady")) {
                        all++;
                        steady += e.getValue() > 0 ? 1 : 0;
                    } else if (e.getKey().endsWith(".warmup_ms")) {
                        took.add(e.getValue());
                    }
                }
            }
        }
        return all == 0 ? "no warm-up recorded" : steady + " of " + all + " warm-ups ended steady, median "
                + Math.round(Stats.median(took)) + " ms";
    }

    /** The bound on the slow consumer's peak heap after GC, MiB. */
    static final double SLOW_CONSUMER_BOUND_MIB = 64;
    private static final String HIVEMQ = "HiveMQ client 1.4.2";

    /** Peak heap after GC minus the heap after three collections before the flood: what the flood cost. */
    private static List<Double> growth(Map<String, Map<String, Double>> slow, String id) {
        Map<String, Double> v = slow.getOrDefault(id, Map.of());
        Double peak = v.get("slow.peak_heap_after_gc_mib");
        Double base = v.get("slow.baseline_heap_mib");
        return List.of(peak == null || base == null ? Double.NaN : peak - base);
    }

    /**
     * @param key the value, or null for the heap growth
     * @return the contender's value if it processed every message of the flood, else NaN
     */
    private static List<Double> complete(Map<String, Map<String, Double>> slow, String id, String key) {
        Double missing = slow.getOrDefault(id, Map.of()).get("slow.missing");
        if (missing == null || missing != 0.0) {
            return List.of(Double.NaN);
        }
        return key == null ? growth(slow, id) : series(List.of(slow), id, key);
    }

    private static String slowSummary(Map<String, Map<String, Double>> slow) {
        StringBuilder s = new StringBuilder();
        slow.forEach((id, values) -> {
            if (values.isEmpty()) {
                return;
            }
            s.append(id.equals(Contender.TETHER) ? "Tether" : id.equals("hivemq") ? "HiveMQ" : id).append(": ")
                    .append(num(values.get("slow.processed"))).append(" processed, ")
                    .append(num(values.get("slow.duplicates"))).append(" duplicates, ")
                    .append(Double.valueOf(1.0).equals(values.get("slow.stalled"))
                            ? "stopped after " + SlowConsumerWorkload.STALL.toSeconds() + " s without a new message (missing "
                            + "sequence numbers " + num(values.get("slow.first_missing")) + " to "
                            + num(values.get("slow.last_missing")) + "), " : "")
                    .append(num(values.get("slow.disconnects"))).append(" connections lost, ")
                    .append(num(values.get("slow.gc_count"))).append(" collections, idle heap before the flood ")
                    .append(num(values.get("slow.baseline_heap_mib"))).append(" MiB, old generation peak ")
                    .append(num(values.get("slow.peak_old_gen_mib"))).append(" MiB, publisher done after ")
                    .append(num(values.get("slow.flood_s"))).append(" s. ");
        });
        return s.toString().trim();
    }

    /**
     * The goals of the performance issue: at least 1.25x HiveMQ on every throughput row, at least 3x Paho v3
     * on QoS 0 100 B; the other Paho rows are reported without a target.
     */
    private static Metric throughput(String name, List<Map<String, Map<String, Double>>> rounds, String key, Contender peer,
                                     boolean pahoGoalRow) {
        boolean hivemq = peer.id().equals("hivemq");
        boolean paho3 = peer.id().equals("paho3") && pahoGoalRow;
        Metric.RatioTarget kind = hivemq || paho3 ? Metric.RatioTarget.AT_LEAST : Metric.RatioTarget.NONE;
        double bound = hivemq ? 1.25 : 3.0;
        String target = hivemq ? ">= 1.25x HiveMQ" : ">= 3.0x Paho v3";
        return Metric.compare(name, "msg/s", true, series(rounds, Contender.TETHER, key), peer.label(),
                series(rounds, peer.id(), key), kind, bound, target);
    }

    static List<Double> series(List<Map<String, Map<String, Double>>> rounds, String contender, String key) {
        List<Double> values = new ArrayList<>();
        for (Map<String, Map<String, Double>> round : rounds) {
            Double v = round.getOrDefault(contender, Map.of()).get(key);
            values.add(v == null ? Double.NaN : v);
        }
        return values;
    }

    private static List<Double> one(Map<String, Double> values, String key) {
        Double v = values.get(key);
        return List.of(v == null ? Double.NaN : v);
    }

    List<Metric> metrics() {
        return metrics;
    }

    String toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("date", date);
        root.put("machine", machine);
        root.put("runs", runs);
        root.put("mode", quick ? "quick" : "full");
        root.put("smoke_test", quick);
        root.put("seed", seed);
        root.put("duration_s", seconds);
        List<Object> list = new ArrayList<>();
        for (Metric m : metrics) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", m.name());
            e.put("unit", m.unit());
            e.put("better", m.better());
            e.put("tether", m.tether());
            e.put("peer_name", m.peerName());
            e.put("peer", m.peer());
            e.put("ratio", m.ratio());
            e.put("min_ratio", m.minRatio());
            e.put("max_ratio", m.maxRatio());
            e.put("ci_low", m.ciLow());
            e.put("ci_high", m.ciHigh());
            e.put("samples", m.samples());
            // Every round's values, so a wide interval can be traced to the rounds (and contender JVMs) behind it.
            e.put("tether_values", m.tetherValues());
            e.put("peer_values", m.peerValues());
            e.put("target", m.target());
            e.put("met", m.met());
            e.put("verdict", m.verdict());
            list.add(e);
        }
        root.put("metrics", list);
        root.put("storm_simulation", stormJson);
        return Json.write(root);
    }

    String toMarkdown(String command) {
        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks: Tether side by side\n\n");
        if (quick) {
            md.append("> **Quick run: a smoke test, not the headline.** Few short rounds; its ratios only show that "
                    + "every workload runs. The numbers to quote come from the full run (`./tether bench`).\n\n");
        }
        md.append("- Date: ").append(date).append('\n');
        md.append("- Machine: ").append(machine).append('\n');
        md.append("- Command: `").append(command).append("`\n");
        md.append("- Duration: ").append(seconds).append(" s\n");
        for (String n : notes) {
            md.append("- ").append(n).append('\n');
        }
        md.append("\nRatio = Tether / peer, per round (both ran in the same round); the median over the rounds is "
                + "shown with its 95% bootstrap interval (rounds resampled with replacement, " + Stats.RESAMPLES
                + " times) and the smallest and largest round; n = rounds (or trials) behind it. A target is **met** "
                + "only when the whole interval clears it, **missed** when the whole interval is on the wrong side, "
                + "and **not shown** when the interval straddles it. A row measured once has no interval; its "
                + "verdict says `1 run`. For `better: lower` metrics a ratio below 1 favours Tether.\n\n");
        md.append("| Metric | Unit | Better | Tether | Peer | Peer value | Ratio | 95% interval | Min–max | n | Target "
                + "| Verdict |\n");
        md.append("|---|---|---|---:|---|---:|---:|---|---|---:|---|---|\n");
        for (Metric m : metrics) {
            md.append("| ").append(m.name()).append(" | ").append(m.unit()).append(" | ").append(m.better())
                    .append(" | ").append(num(m.tether()))
                    .append(" | ").append(m.peerName() == null ? "—" : m.peerName())
                    .append(" | ").append(m.peer() == null ? "—" : num(m.peer()))
                    .append(" | ").append(m.ratio() == null ? "—" : ratio(m.ratio()))
                    .append(" | ").append(m.ciLow() == null || m.ciHigh() == null ? "—"
                            : (m.ratio() == null ? num(m.ciLow()) + "–" + num(m.ciHigh())
                            : ratio(m.ciLow()) + "–" + ratio(m.ciHigh())))
                    .append(" | ").append(m.minRatio() == null ? "—" : ratio(m.minRatio()) + "–" + ratio(m.maxRatio()))
                    .append(" | ").append(m.samples())
                    .append(" | ").append(m.target() == null ? "—" : m.target())
                    .append(" | ").append(m.verdict() == null ? "—" : m.verdict().startsWith(Metric.MET) ? m.verdict()
                            : "**" + m.verdict() + "**")
                    .append(" |\n");
        }
        List<Metric> missed = metrics.stream().filter(m -> Boolean.FALSE.equals(m.met())).toList();
        md.append("\n## Targets missed or not shown\n\n");
        if (missed.isEmpty()) {
            md.append("None in this run.\n");
        } else {
            for (Metric m : missed) {
                md.append("- ").append(m.name()).append(m.peerName() == null ? "" : " vs " + m.peerName())
                        .append(": ").append(m.ratio() == null ? num(m.tether()) + " " + m.unit() : ratio(m.ratio()) + "x")
                        .append(m.ciLow() == null || m.ciHigh() == null ? ""
                                : " (interval " + (m.ratio() == null ? num(m.ciLow()) + "–" + num(m.ciHigh())
                                : ratio(m.ciLow()) + "–" + ratio(m.ciHigh())) + ")")
                        .append(", target ").append(m.target()).append(", ").append(m.verdict()).append(". ")
                        .append(Explanations.why(m)).append('\n');
            }
        }
        md.append(stormSection);
        md.append("\n## Not measured yet\n\n").append(Explanations.NOT_MEASURED);
        return md.toString();
    }

    /**
     * Writes {@code latest.json} and {@code latest.md}.
     *
     * @param dir     the output folder, created if missing
     * @param command the command shown in the Markdown report
     * @throws IOException if a file cannot be written
     */
    public void write(Path dir, String command) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("latest.json"), toJson(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("latest.md"), toMarkdown(command), StandardCharsets.UTF_8);
    }

    static String num(@Nullable Double v) {
        if (v == null || !Double.isFinite(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String ratio(@Nullable Double v) {
        return v == null ? "—" : String.format(Locale.ROOT, "%.2f", v);
    }
}
