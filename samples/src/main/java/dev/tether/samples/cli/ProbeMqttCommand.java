package dev.tether.samples.cli;

import dev.tether.core.CredentialsProvider;
import dev.tether.samples.LifecycleJson;
import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.Verdict;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttConnackRefusedException;
import dev.tether.mqtt.MqttDelivery;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttRefusedException;
import dev.tether.mqtt.MqttSession;
import dev.tether.mqtt.MqttSubscription;
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
 * {@code tether probe mqtt}: connects to a real broker, reports the CONNACK, its verdict and what it
 * says about Subscription Identifiers and shared subscriptions; checks that a shared subscription
 * delivers a QoS 1 message to one member of its group, once; says when the client acknowledges inbound
 * messages and checks it for manual acknowledgement; then checks every disconnect mode with a second
 * connection subscribed to a private Will topic.
 */
@Command(name = "mqtt", mixinStandardHelpOptions = true,
        description = {"Probe an MQTT broker: CONNACK and its verdict, what it says about Subscription Identifiers and",
                "shared subscriptions, whether a shared subscription delivers a QoS 1 message once, when inbound",
                "messages are acknowledged, then each disconnect mode (abort, graceful, graceful with Will on MQTT 5):",
                "was the transport closed, was the Will delivered, how fast."})
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
        if (first.session != null && first.session.version() != version) {
            // The broker refused MQTT 5 and the client fell back: report and use what was negotiated.
            report.put("mqtt_version", first.session.version() == MqttVersion.MQTT_5 ? "5" : "3.1.1");
            report.put("mqtt_version_fallback", "the broker refused MQTT 5; the client fell back to MQTT 3.1.1");
            version = first.session.version();
        }
        report.put("session", session(first.session, version));

        // 2. Shared subscriptions and acknowledgements, on topics of this run only.
        Map<String, Object> shared = checkSharedSubscription(endpoint, version, credentials, run, first.session);
        report.put("shared_subscription", shared);
        Map<String, Object> acks = checkAcknowledgement(endpoint, version, credentials, run);
        report.put("acknowledgement", acks);
        boolean sharedOk = !"fail".equals(shared.get("result")) && !"error".equals(shared.get("result"));
        boolean acksOk = !"fail".equals(acks.get("manual_check")) && !"error".equals(acks.get("manual_check"));

        // 3. Every disconnect mode, watched by an independent subscriber to a private Will topic.
        boolean allAsExpected = sharedOk && acksOk;
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
        return builder(endpoint, version, credentials, clientId, will, policy).build();
    }

    private MqttClient.Builder builder(Endpoint endpoint, MqttVersion version, CredentialsProvider credentials, String clientId,
                                       MqttWill will, ReconnectPolicy policy) {
        MqttClient.Builder b = MqttClient.builder().endpoint(endpoint).clientId(clientId).version(version)
                .credentials(credentials).cleanStart(true).connackTimeout(timeout).attemptTimeout(timeout)
                .transportCloseTimeout(Duration.ofSeconds(2))
                .reconnect(policy).name(clientId);
        if (will != null) {
            b.will(will);
        }
        return b;
    }

    /** The probe's own instruments (observers, publishers) may retry within the step's bound. */
    private ReconnectPolicy instrumentPolicy() {
        return ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofSeconds(1)).maxElapsed(timeout).build();
    }

    /** What one connect attempt gave. */
    private static final class Outcome {
        boolean connected;
        int code = -1;
        String verdict = "none";
        long connectMillis = -1;
        String error;
        MqttSession session;
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
                o.session = c.details() instanceof MqttSession s ? s : null;
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
                instrumentPolicy());
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
            // Over WebSocket the close handshake is reported like `probe ws` does: the CloseSummary notice.
            java.util.concurrent.atomic.AtomicReference<dev.tether.websocket.CloseSummary> wsClose =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Disposable subjectEvents = subject.lifecycle().subscribe(e -> {
                if (e instanceof LifecycleEvent.Notice n && n.details() instanceof dev.tether.websocket.CloseSummary cs) {
                    wsClose.set(cs);
                }
            }, e -> { });
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
            subjectEvents.dispose();
            dev.tether.websocket.CloseSummary summary = wsClose.get();
            if (summary != null) {
                Map<String, Object> close = Json.object();
                close.put("code_sent", summary.closeFrameSent() ? summary.codeSent() : null);
                close.put("code_received", summary.closeFrameReceived() ? summary.codeReceived() : null);
                close.put("close_handshake_ms", summary.closingTook().toMillis());
                close.put("timer_fired", summary.timersFired().isEmpty() ? "none" : summary.timersFired().toString());
                close.put("tcp_closed_by", summary.tcpClosedBy() == dev.tether.websocket.CloseSummary.Side.PEER ? "broker" : "client");
                close.put("clean", summary.clean());
                r.put("websocket_close", close);
            }
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

    /** What the CONNACK said about the session, as the client understood it. */
    private static Map<String, Object> session(MqttSession s, MqttVersion version) {
        Map<String, Object> r = Json.object();
        if (s == null) {
            r.put("error", "the Connected event carried no MQTT session");
            return r;
        }
        boolean v5 = version == MqttVersion.MQTT_5;
        r.put("receive_maximum", s.receiveMaximum());
        r.put("maximum_qos", s.maximumQos().value());
        r.put("retain_available", s.retainAvailable());
        r.put("subscription_identifiers_available", s.subscriptionIdentifiersAvailable());
        // MQTT 3.1.1 has no CONNACK property for it: unknown, whatever the client assumes.
        r.put("shared_subscriptions_available", v5 ? s.sharedSubscriptionsAvailable() : null);
        r.put("source", v5 ? "CONNACK; an absent property means available"
                : "MQTT 3.1.1: the CONNACK says neither; no Subscription Identifiers, shared subscriptions unknown");
        return r;
    }

    /** One of the probe's own clients with one subscription: its SUBACK and what it received. */
    private static final class Listener {
        final MqttClient client;
        final String filter;
        final CountDownLatch suback = new CountDownLatch(1);
        final java.util.concurrent.Semaphore arrivals = new java.util.concurrent.Semaphore(0);
        final List<Object> received = new CopyOnWriteArrayList<>();
        volatile String subackText;
        volatile Integer refusedCode;
        volatile String error;
        volatile LifecycleEvent last;
        final CountDownLatch unsuback = new CountDownLatch(1);
        volatile boolean connected;
        Disposable notices;
        Disposable messages;

        Listener(MqttClient client, String filter, boolean manual) {
            this.client = client;
            this.filter = filter;
            notices = client.lifecycle().subscribe(e -> {
                last = e;
                if (e instanceof LifecycleEvent.Connected) {
                    connected = true;
                } else if (e instanceof LifecycleEvent.Disconnected || e instanceof LifecycleEvent.Closed) {
                    connected = false;
                }
                if (e instanceof LifecycleEvent.Notice n && n.kind().equals(MqttClient.Builder.UNSUBSCRIBE_ACKNOWLEDGED_NOTICE)
                        && String.valueOf(n.details()).contains(filter)) {
                    unsuback.countDown();
                }
                if (e instanceof LifecycleEvent.Notice n && n.kind().endsWith("subscribed")
                        && String.valueOf(n.details()).contains(filter)) {
                    String d = String.valueOf(n.details());
                    int arrow = d.indexOf("-> ");
                    subackText = arrow < 0 ? d : d.substring(arrow + 3).replaceAll("[\\]\\s]+$", "");
                    suback.countDown();
                }
            }, e -> { });
            MqttSubscription spec = MqttSubscription.of(filter, MqttQos.AT_LEAST_ONCE);
            reactor.core.publisher.Flux<?> flux = manual ? client.subscribeWithAcknowledgement(spec) : client.subscribe(spec);
            messages = flux.subscribe(m -> {
                received.add(m);
                arrivals.release();
            }, e -> {
                if (e instanceof MqttRefusedException r) {
                    refusedCode = r.reasonCode();
                } else {
                    error = TetherCommand.oneLine(e);
                }
                suback.countDown();
            });
            client.start();
        }

        boolean awaitSuback(Duration timeout) throws InterruptedException {
            return suback.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        String lastEvent() {
            LifecycleEvent e = last;
            return e == null ? "none" : LifecycleJson.human(e).replaceAll("\\s+", " ").trim();
        }

        /**
         * Unsubscribes, waits (bounded) for the broker's UNSUBACK, then closes. The members of a shared group leave one
         * after another, each confirmed: Moquette 0.18 corrupts its subscription tree, and stops a session thread,
         * when two members of one group unsubscribe at the same time.
         */
        void close(Duration timeout) throws InterruptedException {
            boolean subscribed = suback.getCount() == 0 && refusedCode == null && error == null && connected;
            messages.dispose();
            if (subscribed) {
                unsuback.await(Math.min(timeout.toMillis(), 5000), TimeUnit.MILLISECONDS);
            }
            notices.dispose();
            client.close().onErrorResume(e -> reactor.core.publisher.Mono.empty()).block(timeout);
        }
    }

    /**
     * Two members of one shared subscription with a random group; one QoS 1 message published to the
     * topic must reach exactly one of them, once.
     */
    private Map<String, Object> checkSharedSubscription(Endpoint endpoint, MqttVersion version, CredentialsProvider credentials,
                                                        String run, MqttSession session) throws InterruptedException {
        String topic = "tether/probe/" + run + "/shared";
        String group = "tether-probe-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
        String filter = "$share/" + group + "/" + topic;
        Map<String, Object> r = Json.object();
        r.put("filter", filter);
        if (version == MqttVersion.MQTT_5 && session != null && !session.sharedSubscriptionsAvailable()) {
            r.put("result", "unsupported");
            r.put("detail", "the CONNACK says Shared Subscription Available = 0; not subscribed");
            return r;
        }
        r.put("members", 2);
        List<Listener> members = new java.util.ArrayList<>();
        MqttClient publisher = client(endpoint, version, credentials, "tether-probe-pub-" + run, null, instrumentPolicy());
        try {
            for (String name : List.of("a", "b")) {
                members.add(new Listener(client(endpoint, version, credentials, "tether-probe-shr-" + name + "-" + run, null,
                        instrumentPolicy()), filter, false));
            }
            publisher.start();
            for (Listener m : members) {
                if (!m.awaitSuback(timeout)) {
                    r.put("result", "error");
                    r.put("detail", "no SUBACK for " + filter + " within " + Durations.format(timeout) + "; last event: " + m.lastEvent());
                    return r;
                }
            }
            for (Listener m : members) {
                if (m.refusedCode != null) {
                    int code = m.refusedCode;
                    r.put("suback", "refused " + hex(code));
                    r.put("suback_code", hex(code));
                    r.put("result", code == 0x9E ? "unsupported" : "refused");
                    r.put("detail", code == 0x9E ? "the broker refused the shared subscription: 0x9E Shared Subscriptions not supported"
                            : version == MqttVersion.MQTT_5 ? "the broker refused the shared subscription with " + hex(code)
                            + " (0x87 is not authorized, 0x8F topic filter invalid, 0x80 unspecified)"
                            : "SUBACK 0x80 (failure): MQTT 3.1.1 cannot say why; a broker without shared subscriptions "
                            + "refuses this way, and so does one that does not authorize the filter");
                    return r;
                }
                if (m.error != null) {
                    r.put("result", "error");
                    r.put("detail", "the subscription failed: " + m.error);
                    return r;
                }
            }
            r.put("suback", members.get(0).subackText);
            publisher.awaitConnected(timeout).block();
            publisher.publish(topic, ("shared " + run).getBytes(java.nio.charset.StandardCharsets.UTF_8), MqttQos.AT_LEAST_ONCE)
                    .block(timeout);
            long deadline = System.nanoTime() + willWait.toNanos();
            while (total(members) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            // A second copy, if the broker does not share, comes at about the same time: wait a little for it.
            Thread.sleep(Math.min(willWait.toMillis(), 500));
            int a = members.get(0).received.size();
            int b = members.get(1).received.size();
            r.put("arrivals", a + b);
            if (a + b == 1) {
                r.put("result", "pass");
                r.put("detail", "one QoS 1 message reached one member of the group, once");
            } else if (a + b == 0) {
                r.put("result", "fail");
                r.put("detail", "no member received the message within " + Durations.format(willWait)
                        + ": the broker granted the filter but did not deliver through it (it may take $share/... as an ordinary filter)");
            } else {
                r.put("result", "fail");
                r.put("detail", "the message arrived " + (a + b) + " times (member a " + a + ", member b " + b
                        + "): the broker does not share the subscription among the group");
            }
            return r;
        } catch (RuntimeException e) {
            r.put("result", "error");
            r.put("detail", TetherCommand.oneLine(e));
            return r;
        } finally {
            for (Listener m : members) {
                m.close(timeout);
            }
            publisher.close().onErrorResume(e -> reactor.core.publisher.Mono.empty()).block(timeout);
        }
    }

    private static int total(List<Listener> members) {
        int n = 0;
        for (Listener m : members) {
            n += m.received.size();
        }
        return n;
    }

    /**
     * When the client acknowledges inbound QoS 1 messages: by design for {@code subscribe}, observed for
     * manual acknowledgement: with Receive Maximum 1 the broker may not send a second message before the
     * first was acknowledged, so the second must come only after {@code acknowledge()}.
     */
    private Map<String, Object> checkAcknowledgement(Endpoint endpoint, MqttVersion version, CredentialsProvider credentials,
                                                     String run) throws InterruptedException {
        Map<String, Object> r = Json.object();
        r.put("subscribe", "after emission to the subscriber under its demand (once its onNext returned), in arrival order");
        r.put("subscribe_with_acknowledgement", "after MqttDelivery.acknowledge(), in arrival order");
        if (version != MqttVersion.MQTT_5) {
            r.put("manual_check", "not_checked");
            r.put("detail", "MQTT 3.1.1 has no Receive Maximum: the broker's own window decides how many messages it sends "
                    + "unacknowledged, so when the client acknowledges cannot be seen from here");
            return r;
        }
        String topic = "tether/probe/" + run + "/ack";
        Listener sub = new Listener(builder(endpoint, version, credentials, "tether-probe-ack-" + run, null, instrumentPolicy())
                .receiveMaximum(1).build(), topic, true);
        MqttClient publisher = client(endpoint, version, credentials, "tether-probe-ackpub-" + run, null, instrumentPolicy());
        try {
            publisher.start();
            if (!sub.awaitSuback(timeout) || sub.refusedCode != null || sub.error != null) {
                r.put("manual_check", "error");
                r.put("detail", "could not subscribe to " + topic + ": " + (sub.refusedCode != null ? "SUBACK " + hex(sub.refusedCode)
                        : sub.error != null ? sub.error : "no SUBACK within " + Durations.format(timeout) + "; last event: " + sub.lastEvent()));
                return r;
            }
            publisher.awaitConnected(timeout).block();
            for (int i = 1; i <= 2; i++) {
                publisher.publish(topic, ("ack " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), MqttQos.AT_LEAST_ONCE)
                        .block(timeout);
            }
            if (!sub.arrivals.tryAcquire(willWait.toMillis(), TimeUnit.MILLISECONDS)) {
                r.put("manual_check", "error");
                r.put("detail", "the first message did not arrive within " + Durations.format(willWait));
                return r;
            }
            long hold = Math.min(willWait.toMillis(), 1000);
            if (sub.arrivals.tryAcquire(hold, TimeUnit.MILLISECONDS)) {
                r.put("manual_check", "inconclusive");
                r.put("detail", "the second message arrived before the first was acknowledged: either the broker does not "
                        + "hold to the client's Receive Maximum of 1, or the client acknowledged early; this probe cannot tell which");
                return r;
            }
            long t0 = System.nanoTime();
            ((MqttDelivery) sub.received.get(0)).acknowledge();
            if (!sub.arrivals.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                r.put("manual_check", "fail");
                r.put("detail", "the second message did not arrive within " + Durations.format(timeout) + " after the first was acknowledged");
                return r;
            }
            long after = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            ((MqttDelivery) sub.received.get(1)).acknowledge();
            r.put("manual_check", "pass");
            r.put("held_ms", hold);
            r.put("second_after_ack_ms", after);
            r.put("detail", "with Receive Maximum 1 the broker held the second message for " + hold
                    + " ms while the first was unacknowledged, and sent it " + after
                    + " ms after acknowledge(): the PUBACK went out on acknowledge(), not on arrival");
            return r;
        } catch (RuntimeException e) {
            r.put("manual_check", "error");
            r.put("detail", TetherCommand.oneLine(e));
            return r;
        } finally {
            sub.close(timeout);
            publisher.close().onErrorResume(e -> reactor.core.publisher.Mono.empty()).block(timeout);
        }
    }

    private static String hex(int code) {
        return String.format("0x%02X", code);
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
        @SuppressWarnings("unchecked")
        Map<String, Object> session = (Map<String, Object>) report.get("session");
        if (session != null && !session.containsKey("error")) {
            Object shared = session.get("shared_subscriptions_available");
            out.printf("session       receiveMaximum %s, maximumQos %s, subscriptionIdentifiers %s, sharedSubscriptions %s (%s)%n",
                    session.get("receive_maximum"), session.get("maximum_qos"),
                    yesNoPlain(session.get("subscription_identifiers_available")),
                    shared == null ? "unknown" : yesNoPlain(shared), session.get("source"));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> shared = (Map<String, Object>) report.get("shared_subscription");
        if (shared != null) {
            out.printf("shared        %s: %s%s, %s%n", shared.get("result"), shared.get("filter"),
                    shared.get("suback") == null ? "" : " " + shared.get("suback"), shared.get("detail"));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> acks = (Map<String, Object>) report.get("acknowledgement");
        if (acks != null) {
            out.printf("acknowledged  subscribe(): %s%n", acks.get("subscribe"));
            out.printf("              subscribeWithAcknowledgement(): %s%n", acks.get("subscribe_with_acknowledgement"));
            out.printf("              manual check %s: %s%n", acks.get("manual_check"), acks.get("detail"));
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
            @SuppressWarnings("unchecked")
            Map<String, Object> ws = (Map<String, Object>) r.get("websocket_close");
            if (ws != null) {
                out.printf("%-20s websocket close: sent %s, received %s, TCP closed by %s, timers %s, %s ms%s%n", "",
                        ws.get("code_sent") == null ? "none" : ws.get("code_sent"),
                        ws.get("code_received") == null ? "none" : ws.get("code_received"), ws.get("tcp_closed_by"),
                        ws.get("timer_fired"), ws.get("close_handshake_ms"), Boolean.TRUE.equals(ws.get("clean")) ? ", clean" : "");
            }
        }
        out.println();
        out.println(Boolean.TRUE.equals(report.get("as_expected"))
                ? "Every disconnect closed the transport, the Will came exactly when it should, and no subscription check failed."
                : "Something did not behave: see the rows marked (!) or 'no', and any check marked fail or error, above.");
    }

    private static String yesNoPlain(Object b) {
        return Boolean.TRUE.equals(b) ? "yes" : "no";
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
