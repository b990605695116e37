package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.CredentialsRequest;
import dev.tether.core.FatalConnectionException;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.Verdict;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.HiveMqBroker;
import dev.tether.mqtt.test.MoquetteBroker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.core.publisher.Mono;

/**
 * Field report 001: a refused CONNACK on the first connect (expired token) goes through the same
 * retry pipeline as every reconnect: the credentials source is asked to refresh, the client retries
 * and connects, without user code. Fatal refusals fail fast.
 */
class CredentialsRefusalIT {

    static HiveMqBroker hivemq;
    static MoquetteBroker moquette;

    @BeforeAll
    static void start() {
        hivemq = HiveMqBroker.start();
        moquette = MoquetteBroker.start();
    }

    @AfterAll
    static void stop() {
        moquette.close();
        hivemq.close();
    }

    /** Hands out an expired token until asked to refresh, then fresh ones; records every request. */
    static final class TokenSource implements CredentialsProvider {
        final List<CredentialsRequest> requests = new CopyOnWriteArrayList<>();
        final AtomicInteger refreshes = new AtomicInteger();

        @Override
        public Mono<Credentials> credentials(CredentialsRequest request) {
            return Mono.fromSupplier(() -> {
                requests.add(request);
                int n = request.refresh() ? refreshes.incrementAndGet() : refreshes.get();
                return Credentials.of("device", n == 0 ? "expired-token" : "valid-token-" + n);
            });
        }
    }

    static ReconnectPolicy fast() {
        return ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(500)).build();
    }

    @ParameterizedTest(name = "{0} over {1}")
    @CsvSource({"hivemq, tcp, 134", "hivemq, ws, 134", "moquette, tcp, 4", "moquette, ws, 4"})
    void firstConnectWithExpiredCredentialsRefreshesAndConnects(String brokerName, String transport, int refusalCode) {
        boolean hive = brokerName.equals("hivemq");
        String uri = hive ? (transport.equals("ws") ? hivemq.wsUri() : hivemq.tcpUri())
                : (transport.equals("ws") ? moquette.wsUri() : moquette.tcpUri());
        TokenSource tokens = new TokenSource();
        MqttClient client = MqttClient.builder().endpoint(uri)
                .version(hive ? MqttVersion.MQTT_5 : MqttVersion.MQTT_3_1_1)
                .credentials(tokens).reconnect(fast()).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
        client.start();
        try {
            LifecycleEvent.Connected connected = events.await(LifecycleEvent.Connected.class, Duration.ofSeconds(10));
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(1));
            assertThat(retry.generation()).isEqualTo(1);
            assertThat(retry.verdict().kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
            assertThat(retry.cause()).isInstanceOfSatisfying(MqttConnackRefusedException.class,
                    e -> assertThat(e.reasonCode()).isEqualTo(refusalCode));
            assertThat(events.await(LifecycleEvent.CredentialsRefreshed.class, Duration.ofSeconds(1)).generation()).isEqualTo(2);
            assertThat(connected.generation()).isEqualTo(2);
            assertThat(tokens.requests).extracting(CredentialsRequest::refresh).containsExactly(false, true);
            // The secret never shows up on the lifecycle.
            assertThat(events.items().toString()).doesNotContain("expired-token").doesNotContain("valid-token");
        } finally {
            client.close().block(Duration.ofSeconds(10));
        }
    }

    @Test
    void noSecretReachesTheLogsOverARefuseRefreshReconnectCycle() {
        ch.qos.logback.classic.LoggerContext ctx = (ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        java.util.Queue<ch.qos.logback.classic.spi.ILoggingEvent> logged = new java.util.concurrent.ConcurrentLinkedQueue<>();
        ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> capture = new ch.qos.logback.core.AppenderBase<>() {
            @Override
            protected void append(ch.qos.logback.classic.spi.ILoggingEvent event) {
                logged.add(event);
            }
        };
        capture.start();
        List<String> names = List.of("dev.tether", "reactor", "io.netty");
        java.util.Map<String, ch.qos.logback.classic.Level> before = new java.util.HashMap<>();
        for (String name : names) {
            ch.qos.logback.classic.Logger logger = ctx.getLogger(name);
            before.put(name, logger.getLevel());
            logger.setLevel(ch.qos.logback.classic.Level.DEBUG);
            logger.addAppender(capture);
        }
        TokenSource tokens = new TokenSource();
        MqttClient client = MqttClient.builder().endpoint(hivemq.tcpUri()).credentials(tokens).reconnect(fast()).build();
        try {
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            // Refused (expired token), refreshed, reconnected, closed.
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            client.close().block(Duration.ofSeconds(10));
            assertThat(tokens.requests).extracting(CredentialsRequest::refresh).contains(false, true);
        } finally {
            for (String name : names) {
                ch.qos.logback.classic.Logger logger = ctx.getLogger(name);
                logger.detachAppender(capture);
                logger.setLevel(before.get(name));
            }
        }
        assertThat(logged).as("log events captured").isNotEmpty();
        StringBuilder all = new StringBuilder();
        for (ch.qos.logback.classic.spi.ILoggingEvent e : logged) {
            all.append(e.getFormattedMessage()).append('\n');
            for (ch.qos.logback.classic.spi.IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                all.append(t.getClassName()).append(": ").append(t.getMessage()).append('\n');
            }
        }
        assertThat(all.toString()).contains("connected to").contains("0x86").doesNotContain("expired-token").doesNotContain("valid-token");
    }

    @Test
    void bannedClientFailsFastWithoutRetrying() {
        MqttClient client = MqttClient.builder().endpoint(hivemq.tcpUri())
                .credentials(CredentialsProvider.fixed(Credentials.of("banned", "valid-x"))).reconnect(fast()).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
        long t0 = System.nanoTime();
        client.start();
        LifecycleEvent.Closed closed = events.await(LifecycleEvent.Closed.class, Duration.ofSeconds(10));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        assertThat(closed.cause()).isInstanceOf(FatalConnectionException.class)
                .hasMessageContaining("0x8A banned").hasMessageContaining("ask the broker's operator");
        assertThat(events.items()).filteredOn(e -> e instanceof LifecycleEvent.Connecting).hasSize(1);
        assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.RetryScheduled);
    }

    @Test
    void reauthenticatesWithoutDroppingTheConnection() {
        TokenSource tokens = new TokenSource();
        tokens.refreshes.set(1);
        MqttClient client = MqttClient.builder().endpoint(hivemq.tcpUri()).authenticationMethod(HiveMqBroker.TOKEN_METHOD)
                .credentials(tokens).reconnect(fast()).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
        client.start();
        try {
            client.awaitConnected(Duration.ofSeconds(10)).block();
            int before = hivemq.reauthentications();
            client.reauthenticate().block(Duration.ofSeconds(10));
            assertThat(hivemq.reauthentications()).isEqualTo(before + 1);
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("reauthenticated"), Duration.ofSeconds(1));
            assertThat(tokens.requests).extracting(CredentialsRequest::refresh).containsExactly(false, true);
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Disconnected);
            // Still usable on the same connection.
            assertThat(client.publish(MqttMessage.of("after/reauth", "x", MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10)))
                    .isNotNull();
            assertThat(client.connection().generation()).isEqualTo(1);
        } finally {
            client.close().block(Duration.ofSeconds(10));
        }
    }

    @Test
    void refusedReauthenticationFailsTheCallAndTheClientReconnectsWithFreshCredentials() {
        List<String> issued = List.of("valid-a", "expired-b", "valid-c");
        AtomicInteger next = new AtomicInteger();
        List<CredentialsRequest> requests = new CopyOnWriteArrayList<>();
        CredentialsProvider provider = request -> Mono.fromSupplier(() -> {
            requests.add(request);
            return Credentials.token(issued.get(Math.min(issued.size() - 1, next.getAndIncrement())));
        });
        MqttClient client = MqttClient.builder().endpoint(hivemq.tcpUri()).authenticationMethod(HiveMqBroker.TOKEN_METHOD)
                .credentials(provider).reconnect(fast()).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
        client.start();
        try {
            client.awaitConnected(Duration.ofSeconds(10)).block();
            reactor.test.StepVerifier.create(client.reauthenticate()).expectError().verify(Duration.ofSeconds(10));
            LifecycleEvent.CloseReceived byBroker = events.await(LifecycleEvent.CloseReceived.class, Duration.ofSeconds(10));
            assertThat(byBroker.code()).isGreaterThanOrEqualTo(0x80);
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            assertThat(requests).extracting(CredentialsRequest::refresh).containsExactly(false, true, true);
        } finally {
            client.close().block(Duration.ofSeconds(10));
        }
    }

    /** The README example, against HiveMQ over WebSocket, with a token service whose first token has expired. */
    @Test
    void readmeExampleRuns() {
        AtomicInteger issued = new AtomicInteger();
        java.util.function.Function<Boolean, Mono<String>> tokenService = refresh -> Mono.fromSupplier(
                () -> refresh || issued.get() > 0 ? "valid-" + issued.incrementAndGet() : "expired-0");
        List<String> handled = new CopyOnWriteArrayList<>();

        CredentialsProvider tokens = request -> tokenService.apply(request.refresh())
                .map(token -> Credentials.of("sensor-7", token));

        MqttClient client = MqttClient.builder()
                .endpoint(hivemq.wsUri())
                .clientId("sensor-7")
                .cleanStart(false).sessionExpiry(Duration.ofHours(1))
                .credentials(tokens)
                .will(MqttWill.of(MqttMessage.of("status/sensor-7", "offline", MqttQos.AT_LEAST_ONCE)))
                .reconnect(fast())
                .build();

        Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
        client.subscribe("commands/sensor-7/#", MqttQos.AT_LEAST_ONCE)
                .subscribe(message -> handled.add(message.payloadAsString()));
        client.start();

        events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));
        assertThat(events.items()).anyMatch(e -> e instanceof LifecycleEvent.CredentialsRefreshed);
        MqttClient operator = MqttClient.builder().endpoint(hivemq.tcpUri()).build().start();
        operator.publish(MqttMessage.of("commands/sensor-7/reboot", "now", MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10));
        reactor.core.publisher.Flux.interval(Duration.ofMillis(10)).filter(i -> handled.contains("now")).next()
                .block(Duration.ofSeconds(10));
        operator.close().block(Duration.ofSeconds(10));
        client.close().block(Duration.ofSeconds(10));
    }
}
