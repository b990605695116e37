package dev.tether.samples.cli;

import dev.tether.samples.LifecycleJson;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.core.Verdict;
import dev.tether.jwt.JwtCredentialsProvider;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.JwtVerifier;
import dev.tether.jwt.TokenMapping;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttWill;
import dev.tether.samples.broker.JwtBroker;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.DrainReport;
import dev.tether.websocket.onebot.OneBotAnnouncer;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSession;
import java.io.PrintWriter;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code tether demo}: the field reports, played live on embedded defaults. An embedded MQTT broker
 * that checks JWTs and an embedded WebSocket server; Tether clients against them; every lifecycle
 * event printed as it happens; a summary table; exit code 0 when every step behaved.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Play the field reports live on embedded defaults (nothing to install):",
                "  1. first connect with an expired JWT: refused, refreshed, accepted",
                "  2. the broker restarted mid-stream: the subscriber resumes",
                "  3. an abort over WebSocket: the Will reaches another client",
                "  4. a WebSocket close handshake, with its timings",
                "  5. a server hot reload: 1012, reconnects, broadcasts again"})
final class DemoCommand implements Callable<Integer> {

    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(15);
    private static final String TELEMETRY = "demo/telemetry";
    private static final String WILLS = "demo/wills/+";

    @Option(names = "--json", description = "Events and the summary as JSON lines.")
    boolean json;

    @Option(names = "--quiet", description = "Only the summary.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private PrintWriter out;
    private final Object printLock = new Object();
    private final List<Disposable> resources = new ArrayList<>();

    /** One row of the summary. */
    private record Step(String name, boolean passed, String detail) {
    }

    private final ReconnectPolicy fast = ReconnectPolicy.builder().initialDelay(Duration.ofMillis(100))
            .maxDelay(Duration.ofSeconds(1)).stablePeriod(Duration.ofSeconds(2)).build();

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        long started = System.nanoTime();
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        JwtSigner signer = JwtSigner.builder().hs256(secret).subject("demo-device").lifetime(Duration.ofMinutes(5)).build();
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(secret).clockSkew(Duration.ofSeconds(5)).build();
        List<Step> steps = new ArrayList<>();
        try (JwtBroker broker = JwtBroker.start(verifier, why -> say("broker", why))) {
            say("demo", "embedded MQTT broker with JWT authentication on " + broker.tcpUri() + " and " + broker.wsUri());
            JwtCredentialsProvider tokens = JwtCredentialsProvider.builder().selfSigned(signer)
                    .mapping(TokenMapping.password("demo")).name("demo-tokens").build();

            // The subscriber's first token is already expired, as in field report 001.
            AtomicBoolean firstAttempt = new AtomicBoolean(true);
            CredentialsProvider expiredFirst = request -> firstAttempt.getAndSet(false) && !request.refresh()
                    ? Mono.fromSupplier(() -> Credentials.of("demo", signer.sign(Instant.now().minus(Duration.ofMinutes(10)))))
                    : tokens.credentials(request);
            MqttClient subscriber = MqttClient.builder().endpoint(broker.tcpUri()).clientId("demo-subscriber")
                    .credentials(expiredFirst).reconnect(fast).name("subscriber").build();
            Recorder subEvents = record("subscriber", subscriber.lifecycle());
            List<String> telemetry = new CopyOnWriteArrayList<>();
            List<MqttMessage> wills = new CopyOnWriteArrayList<>();
            CountDownLatch willArrived = new CountDownLatch(1);
            resources.add(subscriber.subscribe(TELEMETRY, MqttQos.AT_LEAST_ONCE).subscribe(m -> telemetry.add(m.payloadAsString())));
            resources.add(subscriber.subscribe(WILLS, MqttQos.AT_LEAST_ONCE).subscribe(m -> {
                wills.add(m);
                say("subscriber", "Will received on " + m.topic() + ": '" + m.payloadAsString() + "'");
                willArrived.countDown();
            }));

            steps.add(expiredTokenStep(subscriber, subEvents));
            steps.add(brokerRestartStep(broker, tokens, subscriber, subEvents, telemetry));
            steps.add(webSocketAbortStep(broker, tokens, willArrived, wills));
            subscriber.close().block(STEP_TIMEOUT);
        }
        steps.add(closeHandshakeStep());
        steps.add(hotReloadStep());
        resources.forEach(Disposable::dispose);
        return summary(steps, Duration.ofNanos(System.nanoTime() - started));
    }

    // ------------------------------------------------------------------ steps

    private Step expiredTokenStep(MqttClient subscriber, Recorder events) {
        banner("1. first connect with an expired token (field report 001)");
        subscriber.start();
        LifecycleEvent.Connected connected = events.await(LifecycleEvent.Connected.class, e -> true);
        boolean refusedForAuth = events.events().stream().anyMatch(e -> e instanceof LifecycleEvent.RetryScheduled r
                && r.verdict().kind() == Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
        boolean refreshed = events.events().stream().anyMatch(e -> e instanceof LifecycleEvent.CredentialsRefreshed);
        boolean passed = connected != null && refusedForAuth && refreshed;
        return new Step("expired token refused, refreshed, accepted", passed,
                passed ? "connected at attempt " + attemptOf(events, connected.generation()) + ", no user code"
                        : "refused=" + refusedForAuth + " refreshed=" + refreshed + " connected=" + (connected != null));
    }

    private Step brokerRestartStep(JwtBroker broker, JwtCredentialsProvider tokens, MqttClient subscriber,
                                   Recorder subEvents, List<String> telemetry) throws InterruptedException {
        banner("2. the broker restarts mid-stream");
        MqttClient publisher = MqttClient.builder().endpoint(broker.tcpUri()).clientId("demo-publisher")
                .credentials(tokens).reconnect(fast).name("publisher").build();
        Recorder pubEvents = record("publisher", publisher.lifecycle());
        AtomicLong seq = new AtomicLong();
        publisher.start();
        Disposable publishing = Flux.interval(Duration.ofMillis(100)).onBackpressureDrop()
                .concatMap(i -> publisher.publish(TELEMETRY, ("reading-" + seq.incrementAndGet()).getBytes(), MqttQos.AT_LEAST_ONCE)
                        .onErrorResume(e -> Mono.empty()))
                .subscribe();
        try {
            if (!waitFor(() -> telemetry.size() >= 5)) {
                return new Step("broker restart, subscriber resumes", false, "no telemetry before the restart");
            }
            int before = telemetry.size();
            long generationBefore = subscriber.connection().generation();
            say("demo", "stopping the broker (" + before + " readings received so far)");
            broker.stop();
            subEvents.await(LifecycleEvent.RetryScheduled.class, e -> e.generation() >= generationBefore);
            say("demo", "starting the broker again on the same ports");
            broker.start();
            LifecycleEvent.Connected back = subEvents.await(LifecycleEvent.Connected.class, e -> e.generation() > generationBefore);
            long sentAtRestart = seq.get();
            boolean resumed = back != null && waitFor(() -> telemetry.stream().anyMatch(p -> number(p) > sentAtRestart));
            pubEvents.await(LifecycleEvent.Connected.class, e -> e.generation() > 1);
            return new Step("broker restart, subscriber resumes", resumed,
                    resumed ? before + " readings before, " + (telemetry.size() - before) + " after; resubscribed by itself"
                            : "the subscriber did not receive readings after the restart");
        } finally {
            publishing.dispose();
            publisher.close().block(STEP_TIMEOUT);
        }
    }

    private Step webSocketAbortStep(JwtBroker broker, JwtCredentialsProvider tokens, CountDownLatch willArrived,
                                    List<MqttMessage> wills) throws InterruptedException {
        banner("3. abort over WebSocket: the Will must reach the other client (field report 000)");
        MqttClient device = MqttClient.builder().endpoint(broker.wsUri()).clientId("demo-ws-device")
                .credentials(tokens).reconnect(fast).name("ws-device")
                .will(MqttWill.of(MqttMessage.of("demo/wills/ws-device", "ws-device vanished", MqttQos.AT_LEAST_ONCE)))
                .build();
        Recorder events = record("ws-device", device.lifecycle());
        device.start();
        if (events.await(LifecycleEvent.Connected.class, e -> true) == null) {
            return new Step("abort over WebSocket, Will delivered", false, "the WebSocket client did not connect");
        }
        long t0 = System.nanoTime();
        device.abort().block(STEP_TIMEOUT);
        boolean delivered = willArrived.await(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        boolean fromDevice = wills.stream().anyMatch(m -> m.topic().equals("demo/wills/ws-device"));
        return new Step("abort over WebSocket, Will delivered", delivered && fromDevice,
                delivered ? "Will seen by the subscriber " + ms + " ms after abort()" : "no Will within " + STEP_TIMEOUT.toSeconds() + " s");
    }

    private Step closeHandshakeStep() {
        banner("4. a WebSocket close handshake, step by step (field reports 002, 003)");
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws")
                .handler(session -> session.send(session.receive())).build();
        server.start().block(STEP_TIMEOUT);
        try {
            ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(WebSocketClient.builder().build())
                    .name("ws-client").endpoint(Endpoint.of("ws://127.0.0.1:" + server.port() + "/ws")).reconnect(fast).build();
            Recorder events = record("ws-client", conn.lifecycle());
            conn.start();
            WebSocketSession session = conn.awaitConnected(STEP_TIMEOUT).block();
            String echo = session.receive().next().map(WebSocketMessage::text)
                    .doOnSubscribe(s -> session.sendText("hello").subscribe()).block(STEP_TIMEOUT);
            say("ws-client", "echo received: '" + echo + "'");
            conn.close().block(STEP_TIMEOUT);
            CloseSummary summary = session.closed().block(STEP_TIMEOUT);
            LifecycleEvent.CloseSent sent = events.first(LifecycleEvent.CloseSent.class);
            LifecycleEvent.CloseReceived received = events.first(LifecycleEvent.CloseReceived.class);
            boolean passed = summary != null && summary.clean() && summary.tcpClosedBy() == CloseSummary.Side.PEER;
            String timings = sent != null && received != null
                    ? "close sent -> received " + Duration.between(sent.timestamp(), received.timestamp()).toMillis() + " ms, "
                    : "";
            return new Step("close handshake observable, TCP closed by the server", passed,
                    summary == null ? "no close summary" : timings + "closed in " + summary.closingTook().toMillis()
                            + " ms, TCP closed by the " + (summary.tcpClosedBy() == CloseSummary.Side.PEER ? "server" : "client (!)")
                            + ", timers fired: " + (summary.timersFired().isEmpty() ? "none" : summary.timersFired()));
        } finally {
            server.stop().block(STEP_TIMEOUT);
        }
    }

    private Step hotReloadStep() {
        banner("5. server hot reload: 1012, reconnects, broadcasts again (field report 004)");
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/onebot")
                .announcer(OneBotAnnouncer.builder(10001).enableDisable(true).build())
                .handler(session -> session.receive().then()).build();
        server.start().block(STEP_TIMEOUT);
        List<ResilientConnection<WebSocketSession>> clients = new ArrayList<>();
        List<List<String>> received = new ArrayList<>();
        List<Recorder> recorders = new ArrayList<>();
        try {
            for (int i = 1; i <= 3; i++) {
                ResilientConnection<WebSocketSession> c = ResilientConnection.builder(WebSocketClient.builder().build())
                        .name("bot-" + i).endpoint(Endpoint.of("ws://127.0.0.1:" + server.port() + "/onebot")).reconnect(fast).build();
                List<String> messages = new CopyOnWriteArrayList<>();
                resources.add(c.perSession(WebSocketSession::receive).subscribe(m -> messages.add(m.text())));
                recorders.add(record("bot-" + i, c.lifecycle()));
                received.add(messages);
                clients.add(c);
                c.start();
            }
            for (Recorder r : recorders) {
                r.await(LifecycleEvent.Connected.class, e -> true);
            }
            say("demo", "reloading the server with 3 live sessions");
            DrainReport report = server.reload().block(STEP_TIMEOUT);
            say("server", String.valueOf(report));
            boolean allBack = true;
            for (Recorder r : recorders) {
                allBack &= r.await(LifecycleEvent.Connected.class, e -> e.generation() > 1) != null;
            }
            boolean allSessions = waitFor(() -> server.sessions().count() == 3);
            server.sessions().broadcast(WebSocketMessage.text("after reload")).block(STEP_TIMEOUT);
            boolean allGotIt = waitFor(() -> received.stream().allMatch(l -> l.contains("after reload")));
            boolean saw1012 = recorders.stream().allMatch(r -> r.events().stream()
                    .anyMatch(e -> e instanceof LifecycleEvent.CloseReceived cr && cr.code() == 1012));
            boolean passed = report != null && report.closedCleanly() == 3 && report.aborted() == 0 && allBack && allSessions && allGotIt && saw1012;
            return new Step("hot reload: 1012, reconnect, broadcast", passed,
                    report == null ? "no drain report" : report.closedCleanly() + "/3 closed cleanly with 1012 in "
                            + report.took().toMillis() + " ms; reconnected: " + allBack + "; broadcast received by all: " + allGotIt);
        } finally {
            clients.forEach(c -> c.close().block(STEP_TIMEOUT));
            server.stop().block(STEP_TIMEOUT);
        }
    }

    // ------------------------------------------------------------------ output

    private int summary(List<Step> steps, Duration took) {
        boolean all = steps.stream().allMatch(Step::passed);
        synchronized (printLock) {
            if (json) {
                Map<String, Object> o = Json.object();
                o.put("event", "summary");
                List<Object> rows = new ArrayList<>();
                for (Step s : steps) {
                    Map<String, Object> r = Json.object();
                    r.put("step", s.name());
                    r.put("passed", s.passed());
                    r.put("detail", s.detail());
                    rows.add(r);
                }
                o.put("steps", rows);
                o.put("passed", all);
                o.put("took_ms", took.toMillis());
                out.println(Json.write(o));
            } else {
                out.println();
                out.println("Summary");
                out.printf("  %-4s  %-52s  %s%n", "", "step", "what happened");
                for (Step s : steps) {
                    out.printf("  %-4s  %-52s  %s%n", s.passed() ? "ok" : "FAIL", s.name(), s.detail());
                }
                out.printf("%n%s in %.1f s%n", all ? "Every step behaved" : "Some steps did not behave", took.toMillis() / 1000.0);
            }
            out.flush();
        }
        return all ? 0 : 1;
    }

    private void banner(String title) {
        if (!json) {
            synchronized (printLock) {
                out.println();
                out.println("== " + title);
                out.flush();
            }
        }
    }

    private void say(String who, String what) {
        if (quiet) {
            return;
        }
        synchronized (printLock) {
            if (json) {
                Map<String, Object> o = Json.object();
                o.put("time", Instant.now().toString());
                o.put("client", who);
                o.put("event", "note");
                o.put("text", what);
                out.println(Json.write(o));
            } else {
                out.printf("%-12s %s%n", who, what);
            }
            out.flush();
        }
    }

    private Recorder record(String who, Flux<LifecycleEvent> lifecycle) {
        Recorder r = new Recorder();
        resources.add(lifecycle.subscribe(e -> {
            r.add(e);
            if (!quiet) {
                synchronized (printLock) {
                    if (json) {
                        Map<String, Object> o = LifecycleJson.json(e);
                        o.put("client", who);
                        out.println(Json.write(o));
                    } else {
                        out.printf("%-12s %s%n", who, LifecycleJson.human(e));
                    }
                    out.flush();
                }
            }
        }, e -> { }));
        return r;
    }

    private static int attemptOf(Recorder r, long generation) {
        return r.events().stream().filter(e -> e instanceof LifecycleEvent.Connecting c && c.generation() == generation)
                .map(e -> ((LifecycleEvent.Connecting) e).attempt()).findFirst().orElse(-1);
    }

    private static long number(String payload) {
        try {
            return Long.parseLong(payload.substring(payload.lastIndexOf('-') + 1));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static boolean waitFor(java.util.function.BooleanSupplier condition) {
        return Mono.fromSupplier(condition::getAsBoolean).filter(b -> b)
                .repeatWhenEmpty(r -> r.delayElements(Duration.ofMillis(20)))
                .timeout(STEP_TIMEOUT, Mono.just(false)).blockOptional().orElse(false);
    }

    /** The events of one client, with a way to wait for the next of a kind. */
    private static final class Recorder {
        private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
        private final Object signal = new Object();

        void add(LifecycleEvent e) {
            events.add(e);
            synchronized (signal) {
                signal.notifyAll();
            }
        }

        List<LifecycleEvent> events() {
            return events;
        }

        <T extends LifecycleEvent> T first(Class<T> type) {
            return events.stream().filter(type::isInstance).map(type::cast).findFirst().orElse(null);
        }

        /** @return the first event of the type matching, waiting up to the step timeout; null if none came */
        <T extends LifecycleEvent> T await(Class<T> type, Predicate<T> match) {
            long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
            synchronized (signal) {
                while (true) {
                    for (LifecycleEvent e : events) {
                        if (type.isInstance(e) && match.test(type.cast(e))) {
                            return type.cast(e);
                        }
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return null;
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(signal, left);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return null;
                    }
                }
            }
        }
    }
}
