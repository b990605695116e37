package dev.tether.samples.cli;

import dev.tether.core.CredentialsProvider;
import dev.tether.samples.LifecycleJson;
import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.Verdict;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttConnackRefusedException;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttVerdicts;
import dev.tether.mqtt.MqttVersion;
import dev.tether.mqtt.MqttWill;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.Disposable;

/**
 * {@code tether probe mqtt}: connects to a real broker, reports the CONNACK and its verdict, then
 * checks every disconnect mode with a second connection subscribed to a private Will topic.
 */
@Command(name = "mqtt", mixinStandardHelpOptions = true,
        description = {"Probe an MQTT broker: CONNACK and its verdict, then each disconnect mode (abort, graceful,",
                "graceful with Will on MQTT 5): was the transport closed, was the Will delivered, how fast."})
final class ProbeMqttCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "URI", description = "tcp://, ssl://, ws:// or wss:// broker address, e.g. tcp://127.0.0.1:1883")
    String uri;

    @Mixin
    AuthOptions auth;

    @Option(names = "--mqtt-version", paramLabel = "3|5", defaultValue = "5", description = "MQTT version (default: ${DEFAULT-VALUE}).")
    int mqttVersion;

    @Option(names = "--timeout", paramLabel = "D", converter = Durations.class, defaultValue = "10s",
            description = "Bound on each step (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--will-wait", paramLabel = "D", converter = Durations.class, defaultValue = "3s",
            description = "How long to wait for a Will that should (or should not) arrive (default: ${DEFAULT-VALUE}).")
    Duration willWait;

    @Option(names = "--json", description = "Print one JSON object instead of the human report.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (mqttVersion != 3 && mqttVersion != 5) {
            throw new CommandLine.ParameterException(cl, "--mqtt-version must be 3 or 5, not " + mqttVersion);
        }
        Endpoint endpoint;
        try {
            endpoint = Endpoint.of(uri);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        String transport = switch (endpoint.scheme()) {
            case "tcp", "mqtt" -> "tcp";
            case "ssl", "tls", "mqtts" -> "tls";
            case "ws" -> "websocket";
            case "wss" -> "websocket+tls";
            default -> throw new CommandLine.ParameterException(cl, "unknown scheme '" + endpoint.scheme()
                    + "' in " + uri + ": use tcp://, ssl://, ws:// or wss://");
        };
        MqttVersion version = mqttVersion == 3 ? MqttVersion.MQTT_3_1_1 : MqttVersion.MQTT_5;
        CredentialsProvider credentials = auth.provider(cl, false);
        PrintWriter out = cl.getOut();
        String run = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);

        Map<String, Object> report = Json.object();
        report.put("uri", uri);
        report.put("transport", transport);
        report.put("mqtt_version", mqttVersion == 3 ? "3.1.1" : "5");

        // 1. Connect once, no retry: what does the broker say?
        MqttClient probe = client(endpoint, version, credentials, "tether-probe-" + run, null);
        Outcome first = connectOnce(probe);
        Map<String, Object> connack = Json.object();
        connack.put("code", first.code);
        connack.put("verdict", first.verdict);
        report.put("connack", connack);
        report.put("connect_ms", first.connectMillis);
        if (!first.connected) {
            report.put("error", first.error);
            print(out, report);
            return 1;
        }
        probe.close().block(timeout);

        // 2. Every disconnect mode, watched by an independent subscriber to a private Will topic.
        boolean allAsExpected = true;
        for (String mode : version == MqttVersion.MQTT_5 ? List.of("abort", "graceful", "graceful_with_will") : List.of("abort", "graceful")) {
            Map<String, Object> r = checkMode(endpoint, version, credentials, run, mode);
            report.put(mode, r);
            boolean willExpected = !mode.equals("graceful");
            allAsExpected &= Boolean.TRUE.equals(r.get("transport_closed")) && willExpected == Boolean.TRUE.equals(r.get("will_delivered"));
        }
        report.put("as_expected", allAsExpected);
        print(out, report);
        return allAsExpected ? 0 : 1;
    }

    private MqttClient client(Endpoint endpoint, MqttVersion version, CredentialsProvider credentials, String clientId, MqttWill will) {
        return client(endpoint, version, credentials, clientId, will, ReconnectPolicy.builder().maxAttempts(1).build());
    }

    private MqttClient client(Endpoint endpoint, MqttVersion version, CredentialsProvider credentials, String clientId, MqttWill will,
                              ReconnectPolicy policy) {
        MqttClient.Builder b = MqttClient.builder().endpoint(endpoint).clientId(clientId).version(version)
                .credentials(credentials).cleanStart(true).connackTimeout(timeout).attemptTimeout(timeout)
                .transportCloseTimeout(Duration.ofSeconds(2))
                .reconnect(policy).name(clientId);
        if (will != null) {
            b.will(will);
        }
        return b.build();
    }

    /** What one connect attempt gave. */
    private static final class Outcome {
        boolean connected;
        int code = -1;
        String verdict = "none";
        long connectMillis = -1;
        String error;
    }

    private Outcome connectOnce(MqttClient client) throws InterruptedException {
        Outcome o = new Outcome();
        List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
        CountDownLatch decided = new CountDownLatch(1);
        Disposable sub = client.lifecycle().subscribe(e -> {
            events.add(e);
            if (e instanceof LifecycleEvent.Connected || e instanceof LifecycleEvent.Closed) {
                decided.countDown();
            }
        }, e -> decided.countDown());
        client.start();
        if (!decided.await(timeout.toMillis() + 2000, TimeUnit.MILLISECONDS)) {
            o.error = "no answer from the broker within " + Durations.format(timeout);
            client.abort().block(timeout);
            sub.dispose();
            return o;
        }
        LifecycleEvent.Connecting connecting = events.stream().filter(e -> e instanceof LifecycleEvent.Connecting)
                .map(e -> (LifecycleEvent.Connecting) e).findFirst().orElse(null);
        for (LifecycleEvent e : events) {
            if (e instanceof LifecycleEvent.Connected c) {
                o.connected = true;
                o.code = 0;
                o.verdict = "accepted";
                o.connectMillis = connecting == null ? -1 : Duration.between(connecting.timestamp(), c.timestamp()).toMillis();
            } else if (e instanceof LifecycleEvent.Closed c && c.cause() != null) {
                MqttConnackRefusedException refused = find(c.cause(), MqttConnackRefusedException.class);
                if (refused != null) {
                    o.code = refused.reasonCode();
                    Verdict v = MqttVerdicts.forConnack(refused.version(), refused.reasonCode());
                    o.verdict = v.kind().name().toLowerCase(Locale.ROOT);
                    o.error = "the broker refused the connection: " + MqttConnackRefusedException.describe(refused.version(), refused.reasonCode());
                } else {
                    o.error = "cannot connect to " + uri + ": " + TetherCommand.oneLine(c.cause().getCause() != null ? c.cause().getCause() : c.cause());
                }
            }
        }
        sub.dispose();
        return o;
    }

    private Map<String, Object> checkMode(Endpoint endpoint, MqttVersion version, CredentialsProvider credentials,
                                          String run, String mode) throws InterruptedException {
        String willTopic = "tether/probe/" + run + "/" + mode + "/will";
        Map<String, Object> r = Json.object();
        // The observer is the probe's own instrument, not what is probed: it may retry within the step's bound.
        MqttClient observer = client(endpoint, version, credentials, "tether-probe-obs-" + run + "-" + mode, null,
                ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofSeconds(1)).maxElapsed(timeout).build());
        LifecycleEvent[] lastEvent = {null};
        CountDownLatch subscribed = new CountDownLatch(1);
        CountDownLatch willArrived = new CountDownLatch(1);
        long[] willAt = {0};
        Disposable notices = observer.lifecycle().subscribe(e -> {
            lastEvent[0] = e;
            if (e instanceof LifecycleEvent.Notice n && n.kind().endsWith("subscribed")) {
                subscribed.countDown();
            }
        }, e -> { });
        Disposable wills = observer.subscribe(willTopic, MqttQos.AT_LEAST_ONCE).subscribe(m -> {
            willAt[0] = System.nanoTime();
            willArrived.countDown();
        }, e -> { });
        observer.start();
        try {
            if (!subscribed.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LifecycleEvent last = lastEvent[0];
                r.put("error", "the observer could not subscribe to " + willTopic + " within " + Durations.format(timeout)
                        + (last == null ? "" : "; its last event: " + LifecycleJson.human(last).replaceAll("\\s+", " ").trim()));
                return r;
            }
            MqttWill will = MqttWill.of(MqttMessage.of(willTopic, "gone: " + mode, MqttQos.AT_LEAST_ONCE));
            MqttClient subject = client(endpoint, version, credentials, "tether-probe-subj-" + run + "-" + mode, will);
            subject.start();
            subject.awaitConnected(timeout).block();
            int port = endpoint.port(defaultPort(endpoint));
            int before = KernelSockets.establishedTo(port);
            long t0 = System.nanoTime();
            switch (mode) {
                case "abort" -> subject.abort().block(timeout);
                case "graceful" -> subject.close().block(timeout);
                default -> subject.closeWithWill().block(timeout);
            }
            long closedNanos = System.nanoTime() - t0;
            int after = KernelSockets.establishedTo(port);
            // The client says it is closed; the kernel must agree: one socket fewer to the broker.
            boolean kernelAgrees = before < 0 || after < before;
            r.put("transport_closed", kernelAgrees);
            r.put("close_ms", TimeUnit.NANOSECONDS.toMillis(closedNanos));
            boolean delivered = willArrived.await(willWait.toMillis(), TimeUnit.MILLISECONDS);
            r.put("will_delivered", delivered);
            r.put("will_latency_ms", delivered ? TimeUnit.NANOSECONDS.toMillis(willAt[0] - t0) : null);
            return r;
        } finally {
            wills.dispose();
            notices.dispose();
            observer.close().onErrorResume(e -> reactor.core.publisher.Mono.empty()).block(timeout);
        }
    }

    private static int defaultPort(Endpoint e) {
        return switch (e.scheme()) {
            case "ssl", "tls", "mqtts" -> 8883;
            case "ws" -> 80;
            case "wss" -> 443;
            default -> 1883;
        };
    }

    private void print(PrintWriter out, Map<String, Object> report) {
        if (json) {
            out.println(Json.write(report));
            return;
        }
        out.printf("broker        %s (%s, MQTT %s)%n", report.get("uri"), report.get("transport"), report.get("mqtt_version"));
        @SuppressWarnings("unchecked")
        Map<String, Object> connack = (Map<String, Object>) report.get("connack");
        out.printf("CONNACK       code %s, verdict %s, connect %s ms%n", connack.get("code"), connack.get("verdict"), report.get("connect_ms"));
        if (report.containsKey("error")) {
            out.println("error         " + report.get("error"));
            return;
        }
        out.println();
        out.printf("%-20s %-17s %-15s %s%n", "disconnect mode", "transport closed", "Will delivered", "Will latency");
        for (String mode : List.of("abort", "graceful", "graceful_with_will")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> r = (Map<String, Object>) report.get(mode);
            if (r == null) {
                continue;
            }
            if (r.containsKey("error")) {
                out.printf("%-20s %s%n", mode, r.get("error"));
                continue;
            }
            boolean expectWill = !mode.equals("graceful");
            boolean delivered = Boolean.TRUE.equals(r.get("will_delivered"));
            out.printf("%-20s %-17s %-15s %s%n", mode, yesNo(r.get("transport_closed")),
                    (delivered ? "yes" : "no") + (delivered == expectWill ? "" : " (!)"),
                    r.get("will_latency_ms") == null ? "-" : r.get("will_latency_ms") + " ms");
        }
        out.println();
        out.println(Boolean.TRUE.equals(report.get("as_expected"))
                ? "Every disconnect closed the transport, and the Will came exactly when it should."
                : "Something did not behave: see the rows marked (!) or 'no' above.");
    }

    private static String yesNo(Object b) {
        return Boolean.TRUE.equals(b) ? "yes" : "no (!)";
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }
}
