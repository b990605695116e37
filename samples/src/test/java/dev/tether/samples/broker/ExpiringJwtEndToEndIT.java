package dev.tether.samples.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Await;
import dev.tether.core.testing.Recorder;
import dev.tether.jwt.JwtCredentialsProvider;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.JwtVerifier;
import dev.tether.jwt.TokenMapping;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The JWT source and the MQTT client end to end: a broker that checks every token with Nimbus and
 * disconnects each client when its token expires (every 3 s); the clients keep coming back with
 * fresh tokens and the message stream never stops for longer than a reconnect.
 */
class ExpiringJwtEndToEndIT {

    private static final byte[] SECRET = "end-to-end-secret-of-at-least-32-bytes".getBytes(StandardCharsets.UTF_8);

    @Test
    void tokensExpireEveryFewSecondsAndTheStreamGoesOn() {
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(SECRET).clockSkew(Duration.ZERO).build();
        List<String> refusals = new CopyOnWriteArrayList<>();
        try (JwtBroker broker = JwtBroker.start(verifier, refusals::add).disconnectAtExpiry(true)) {
            JwtCredentialsProvider tokens = JwtCredentialsProvider.builder()
                    .selfSigned(JwtSigner.builder().hs256(SECRET).subject("e2e").lifetime(Duration.ofSeconds(3)).build())
                    .refreshSkew(Duration.ofMillis(500)).mapping(TokenMapping.password("e2e")).build();
            ReconnectPolicy fast = ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(200)).build();
            // Moquette now and then leaves a CONNECT that races its own expiry disconnect unanswered (seen on a loaded
            // machine: two attempts in a row without CONNACK): a short CONNACK bound retries it instead of waiting 10 s.
            Duration connack = Duration.ofSeconds(2);
            MqttClient subscriber = MqttClient.builder().endpoint(broker.tcpUri()).clientId("e2e-sub").credentials(tokens).reconnect(fast)
                    .connackTimeout(connack).build();
            MqttClient publisher = MqttClient.builder().endpoint(broker.wsUri()).clientId("e2e-pub").credentials(tokens).reconnect(fast)
                    .connackTimeout(connack).build();
            Set<String> received = ConcurrentHashMap.newKeySet();
            List<Long> arrivals = new CopyOnWriteArrayList<>();
            Recorder<LifecycleEvent> subEvents = Recorder.lifecycle(subscriber.lifecycle());
            Disposable messages = subscriber.subscribe("e2e/stream", MqttQos.AT_LEAST_ONCE).subscribe(m -> {
                received.add(m.payloadAsString());
                arrivals.add(System.nanoTime());
            });
            subscriber.start().awaitConnected(Duration.ofSeconds(10)).block();
            publisher.start().awaitConnected(Duration.ofSeconds(10)).block();
            Disposable stream = Flux.interval(Duration.ofMillis(50)).onBackpressureDrop()
                    .concatMap(i -> publisher.publish(MqttMessage.of("e2e/stream", "m" + i, MqttQos.AT_LEAST_ONCE)).onErrorResume(e -> Mono.empty()))
                    .subscribe();
            try {
                // Three token lifetimes: each client is disconnected at least twice and comes back.
                Await.until(() -> broker.expiredCount() >= 4, Duration.ofSeconds(30), "the broker expired the clients' tokens");
                // the subscriber reconnected after each expiry
                subEvents.awaitCount(3, e -> e instanceof LifecycleEvent.Connected, Duration.ofSeconds(30));
                int before = received.size();
                Await.until(() -> received.size() > before + 10, Duration.ofSeconds(10), "the stream goes on after the expiries");
            } finally {
                stream.dispose();
            }
            // Fresh tokens every time: no connect was refused, every reconnect carried a new token.
            assertThat(refusals).as("no expired token was ever presented").isEmpty();
            assertThat(tokens.fetchCount()).isGreaterThanOrEqualTo(3);
            // The longest silence is a reconnect, not an outage.
            long maxGapMs = 0;
            for (int i = 1; i < arrivals.size(); i++) {
                maxGapMs = Math.max(maxGapMs, (arrivals.get(i) - arrivals.get(i - 1)) / 1_000_000);
            }
            assertThat(maxGapMs).as("longest gap between two messages").isLessThan(2_000);
            messages.dispose();
            subEvents.close();
            subscriber.close().block(Duration.ofSeconds(10));
            publisher.close().block(Duration.ofSeconds(10));
        }
    }
}
