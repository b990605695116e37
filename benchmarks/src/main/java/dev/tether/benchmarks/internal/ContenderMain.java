package dev.tether.benchmarks.internal;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * The entry point of every contender JVM. Arguments are {@code key=value} pairs; results are
 * printed as lines {@code RESULT <key> <value>} for the harness to read, everything else is ignored.
 *
 * <ul>
 *   <li>{@code role=mqtt driver=<class> host= port= payloads=16,100 [qos0_payloads=16,100] window= warmup_ms=
 *       [warmup_max_ms=] measure_ms= [qos=0|1: only that QoS, e.g. to profile one]
 *       latency_rate= latency_ms= [broker_pid=: the broker's process, whose CPU is read over each window]}</li>
 *   <li>{@code role=ws client=tether|netty url= payload= window= warmup_ms= [warmup_max_ms=] measure_ms=
 *       [server_pid=: the echo server's process, whose CPU is read over the window]}
 *       (the warm-up lasts at least warmup_ms and ends when throughput is steady, at the latest after
 *       warmup_max_ms)</li>
 *   <li>{@code role=resilience host= port= trials=}</li>
 *   <li>{@code role=reconnect driver=<class> host= port= trials= backoff_ms=} (prints {@code CUT <i>} and waits for
 *       the harness to reset the proxied connection; see {@link ReconnectWorkload})</li>
 *   <li>{@code role=idle driver=<class> host= port= connections=}</li>
 *   <li>{@code role=storm host= port= clients=}</li>
 *   <li>{@code role=stormsim sizes=10000,100000 refusals=RATE_EXCEEDED_0X9F,CONNECTION_REFUSED [xclients=
 *       xcheck=NONE/a0;...;a100/d0;...;d100,FULL/...]: the deciles of the real storm's
 *       failed attempt durations and loss detection times, ms}
 *       (virtual time, no sockets: {@link StormSimulation})</li>
 *   <li>{@code role=slowconsumer driver=<class> host= port=} (prints {@code READY <topic>}, then waits for the
 *       harness's flood)</li>
 *   <li>{@code role=wsserver sessions=} (prints {@code PORT <n>}, then waits for the sessions)</li>
 *   <li>{@code role=echo} (the WebSocket echo server of the streaming rows: prints {@code PORT <n>}, serves until
 *       its standard input ends; see {@link EchoProcess})</li>
 * </ul>
 */
public final class ContenderMain {

    private ContenderMain() {
    }

    /**
     * @param args {@code key=value} pairs, see the class comment
     * @throws Exception if the contender fails; the harness reports the exit code and output
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected key=value, but was " + arg);
            }
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        switch (a.getOrDefault("role", "")) {
            case "mqtt" -> mqtt(a);
            case "ws" -> ws(a);
            case "resilience" -> resilience(a);
            case "idle" -> emit("idle", IdleWorkload.run(req(a, "driver"), req(a, "host"), Integer.parseInt(req(a, "port")),
                    Integer.parseInt(req(a, "connections"))));
            case "echo" -> EchoProcess.serve();
            case "wsserver" -> emit("wsserver", ServerIdleWorkload.run(Integer.parseInt(req(a, "sessions"))));
            case "slowconsumer" -> emit("slow", SlowConsumerWorkload.run(req(a, "driver"), req(a, "host"),
                    Integer.parseInt(req(a, "port"))));
            case "reconnect" -> emit("reconnect", ReconnectWorkload.run(req(a, "driver"), req(a, "host"),
                    Integer.parseInt(req(a, "port")), Integer.parseInt(req(a, "trials")),
                    Duration.ofMillis(Long.parseLong(req(a, "backoff_ms")))));
            case "stormsim" -> {
                List<StormSimulator.Refusal> refusals = new java.util.ArrayList<>();
                for (String r : req(a, "refusals").split(",")) {
                    refusals.add(StormSimulator.Refusal.valueOf(r));
                }
                List<Integer> sizes = new java.util.ArrayList<>();
                for (String n : req(a, "sizes").split(",")) {
                    sizes.add(Integer.parseInt(n));
                }
                emit("sim", StormSimulation.run(sizes, refusals));
                // Cross-check against the real storm: per jitter, the deciles of its failed attempts' durations and of
                // its loss detection, as measured: xcheck=NONE/a0;a10;...;a100/d0;d10;...;d100,FULL/...
                for (String x : a.getOrDefault("xcheck", "").split(",")) {
                    String[] p = x.split("/");
                    if (p.length == 3) {
                        emit("sim", StormSimulation.crossCheck(dev.tether.core.Jitter.valueOf(p[0]),
                                Integer.parseInt(req(a, "xclients")), StormSimulator.Latency.empirical(doubles(p[1])),
                                StormSimulator.Latency.empirical(doubles(p[2])), 21));
                    }
                }
            }
            case "storm" -> emit("storm", StormWorkload.run(req(a, "host"), Integer.parseInt(req(a, "port")),
                    Integer.parseInt(req(a, "clients"))));
            default -> throw new IllegalArgumentException("role must be mqtt, ws, resilience, reconnect, idle, storm, slowconsumer, wsserver or echo, but was "
                    + a.get("role"));
        }
        System.out.flush();
        // Some peer libraries keep non-daemon threads after disconnecting.
        System.exit(0);
    }

    private static void mqtt(Map<String, String> a) throws Exception {
        String driver = req(a, "driver");
        String host = req(a, "host");
        int port = Integer.parseInt(req(a, "port"));
        int window = Integer.parseInt(req(a, "window"));
        Duration warmup = Duration.ofMillis(Long.parseLong(req(a, "warmup_ms")));
        Duration warmupMax = Duration.ofMillis(Long.parseLong(a.getOrDefault("warmup_max_ms", req(a, "warmup_ms"))));
        Duration measure = Duration.ofMillis(Long.parseLong(req(a, "measure_ms")));
        List<String> qos0Sizes = List.of(a.getOrDefault("qos0_payloads", req(a, "payloads")).split(","));
        long brokerPid = Long.parseLong(a.getOrDefault("broker_pid", "-1"));
        String run = UUID.randomUUID().toString().substring(0, 8);
        try (MqttDriver pub = MqttDriver.load(driver); MqttDriver sub = MqttDriver.load(driver)) {
            pub.connect(host, port, "bench-pub-" + run, window);
            sub.connect(host, port, "bench-sub-" + run, window);
            // Latency first, before large payloads leave garbage and queues behind.
            int rate = Integer.parseInt(req(a, "latency_rate"));
            Duration latency = Duration.ofMillis(Long.parseLong(req(a, "latency_ms")));
            emit("latency", MqttWorkloads.latency(pub, sub, "bench/" + run + "/lat", 100, rate,
                    latency.dividedBy(4), latency));
            for (String size : req(a, "payloads").split(",")) {
                int bytes = Integer.parseInt(size);
                if (qos0Sizes.contains(size)) {
                    emit("qos0." + bytes, MqttWorkloads.throughput(pub, sub, "bench/" + run + "/q0/" + bytes, 0, true,
                            bytes, window, warmup, warmupMax, measure, brokerPid));
                }
                if (!a.getOrDefault("qos", "").equals("0")) {
                    emit("qos1." + bytes, MqttWorkloads.throughput(pub, sub, "bench/" + run + "/q1/" + bytes, 1, false,
                            bytes, window, warmup, warmupMax, measure, brokerPid));
                }
            }
            if (driver.equals("TetherMqttDriver") && List.of(req(a, "payloads").split(",")).contains("100")
                    && !a.containsKey("qos")) {
                // QoS 1 at 100 B again, with the durable session store (group commit; then forced per message).
                for (String store : List.of("TetherStoreMqttDriver", "TetherSyncStoreMqttDriver")) {
                    try (MqttDriver stored = MqttDriver.load(store)) {
                        stored.connect(host, port, "bench-store-" + run, window);
                        emit("qos1_" + (store.contains("Sync") ? "store_sync" : "store") + ".100",
                                MqttWorkloads.throughput(stored, sub, "bench/" + run + "/q1s/" + store, 1, false, 100,
                                        window, warmup, warmupMax, measure, brokerPid));
                    }
                }
            }
        }
    }

    private static void ws(Map<String, String> a) throws Exception {
        int payload = Integer.parseInt(req(a, "payload"));
        int window = Integer.parseInt(req(a, "window"));
        Duration warmup = Duration.ofMillis(Long.parseLong(req(a, "warmup_ms")));
        Duration warmupMax = Duration.ofMillis(Long.parseLong(a.getOrDefault("warmup_max_ms", req(a, "warmup_ms"))));
        Duration measure = Duration.ofMillis(Long.parseLong(req(a, "measure_ms")));
        try (WsPipe pipe = WsPipe.open(req(a, "client"), req(a, "url"))) {
            emit("stream", WsWorkloads.stream(pipe, payload, window, warmup, warmupMax, measure,
                    Long.parseLong(a.getOrDefault("server_pid", "-1"))));
            emit("pingpong", WsWorkloads.pingPong(pipe, payload, warmup, measure));
        }
    }

    private static void resilience(Map<String, String> a) throws Exception {
        String host = req(a, "host");
        int port = Integer.parseInt(req(a, "port"));
        int trials = Integer.parseInt(req(a, "trials"));
        emit("cut", ResilienceWorkloads.cuts(host, port, trials));
        emit("will", ResilienceWorkloads.abortToWill(host, port, trials));
        emit("blackhole", ResilienceWorkloads.blackhole(host, port, Math.max(2, trials / 4)));
    }

    private static void emit(String prefix, Map<String, Double> values) {
        values.forEach((k, v) -> System.out.println("RESULT " + prefix + "." + k + " " + String.format(Locale.ROOT, "%.6f", v)));
        System.out.flush();
    }

    private static double[] doubles(String list) {
        String[] parts = list.split(";");
        double[] values = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = Double.parseDouble(parts[i]);
        }
        return values;
    }

    private static String req(Map<String, String> a, String key) {
        String v = a.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing argument " + key + "=");
        }
        return v;
    }
}
