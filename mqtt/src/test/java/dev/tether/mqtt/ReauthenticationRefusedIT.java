package dev.tether.mqtt;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Recorder;
import dev.tether.jwt.JwtVerifier;
import dev.tether.jwt.TokenMapping;
import dev.tether.jwt.TokenRenewal;
import dev.tether.mqtt.test.ExpiringTokenBroker;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.tether.mqtt.TokenRenewalIT.LIFETIME;
import static dev.tether.mqtt.TokenRenewalIT.LIFETIMES;
import static dev.tether.mqtt.TokenRenewalIT.MARGIN;
import static dev.tether.mqtt.TokenRenewalIT.SECRET;
import static dev.tether.mqtt.TokenRenewalIT.WAIT;
import static dev.tether.mqtt.TokenRenewalIT.gaps;
import static dev.tether.mqtt.TokenRenewalIT.observer;
import static dev.tether.mqtt.TokenRenewalIT.reconnectTimings;
import static dev.tether.mqtt.TokenRenewalIT.ticks;
import static dev.tether.mqtt.TokenRenewalIT.tokens;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * MQTT 5 token renewal against a broker that does not support re-authentication: it admits tokens
 * at CONNECT, ends a session when its token expires, and answers AUTH with DISCONNECT 0x8C (bad
 * authentication method). The first renewal's AUTH costs one disconnect by the broker (the client
 * reconnects with a fresh token and finds its session); the client remembers the refusal, and every
 * later renewal is a planned reconnect before expiry that keeps the session. (Its own class: two
 * embedded HiveMQ brokers cannot run in one JVM at the same time.)
 */
class ReauthenticationRefusedIT {

    @Test
    void mqtt5FallsBackToAPlannedReconnectWhenTheBrokerRefusesReauthentication() {
        String id = "renewing-no-reauth";
        String topic = "ticks/no-reauth";
        List<Long> arrivals = new CopyOnWriteArrayList<>();
        try (ExpiringTokenBroker noReauth = ExpiringTokenBroker.startWithoutReauthentication(
                JwtVerifier.builder().hmacSecret(SECRET).clockSkew(Duration.ZERO).build())) {
            MqttClient observer = observer(noReauth, topic, arrivals);
            TokenRenewal renewal = TokenRenewal.builder(tokens(id, LIFETIME, TokenMapping.secret())).margin(MARGIN).build();
            MqttClient client = MqttClient.builder().endpoint(noReauth.tcpUri()).clientId(id)
                    .authenticationMethod(ExpiringTokenBroker.TOKEN_METHOD)
                    .cleanStart(false)
                    .sessionExpiry(Duration.ofMinutes(5))
                    .credentials(renewal)
                    .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(200))
                            .stablePeriod(Duration.ofMillis(500)).build())
                    .build();
            renewal.start(client::reauthenticate, client::reconnect);
            Recorder<TokenRenewal.Renewal> renewals = Recorder.of(renewal.renewals());
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            Disposable ticking = null;
            try {
                client.start();
                client.awaitConnected(WAIT).block(WAIT);
                List<Long> emitted = new CopyOnWriteArrayList<>();
                ticking = ticks(client, topic, new CopyOnWriteArrayList<>(), emitted);
                renewals.awaitCount(LIFETIMES, r -> true, LIFETIME.multipliedBy(LIFETIMES + 5));
                // A renewal is reported once the old session ended (reconnect()'s contract): wait for the new one too.
                events.awaitCount(LIFETIMES + 1, e -> e instanceof LifecycleEvent.Connected, WAIT);
                ticking.dispose();
                List<TokenRenewal.Renewal> done = renewals.items();
                TokenRenewalIT.Gaps gaps = gaps(arrivals, done);
                List<String> lifecycle = events.items().stream()
                        .filter(e -> e instanceof LifecycleEvent.Disconnected || e instanceof LifecycleEvent.Connected
                                || e instanceof LifecycleEvent.Notice || e instanceof LifecycleEvent.RetryScheduled)
                        .limit(12).map(ReauthenticationRefusedIT::brief).toList();
                System.out.printf("MQTT 5, broker without re-authentication: %d renewals %s, %s, expiry disconnects %d, re-authentications"
                        + " refused %d, connects %d; lifecycle from the start: %s%n", done.size(),
                        done.stream().map(r -> r.outcome().name()).toList(), gaps, noReauth.expiryDisconnects(id),
                        noReauth.reauthenticationsRefused(id), noReauth.connects(id), lifecycle);
                System.out.println("MQTT 5 planned reconnect after the refusal, per renewal: " + reconnectTimings(events.items()));
                System.out.println("MQTT 5 planned reconnect after the refusal, gaps at the observer per renewal, ms (across the "
                        + "reconnect | largest nearby (from DISCONNECT sent..after CONNACK, the ticker's own)): "
                        + TokenRenewalIT.gapsPerReconnect(events.items(), arrivals, emitted));

                // The first renewal tries AUTH; the broker answers DISCONNECT 0x8C and the client reconnects with a fresh
                // token. The client remembers the refusal: every later renewal is a planned reconnect, AUTH is not sent again.
                assertThat(noReauth.reauthenticationsRefused(id)).as("AUTH is tried once").isEqualTo(1);
                TokenRenewal.Renewal first = done.get(0);
                assertThat(first.outcome()).isEqualTo(TokenRenewal.Outcome.FAILED);
                assertThat(causes(first.cause())).anySatisfy(c -> assertThat(c).isInstanceOfSatisfying(MqttRefusedException.class,
                        r -> assertThat(r.reasonCode()).isEqualTo(0x8C)));
                assertThat(done.subList(1, done.size())).allSatisfy(r -> {
                    assertThat(r.outcome()).isEqualTo(TokenRenewal.Outcome.FELL_BACK);
                    assertThat(r.cause()).isInstanceOf(MqttRefusedException.class).hasMessageContaining("planned reconnect");
                });
                assertThat(noReauth.expiryDisconnects(id)).as("the broker never had to end the session at expiry").isZero();
                assertThat(events.items()).filteredOn(e -> e instanceof LifecycleEvent.Disconnected d && d.code() == 0x8C)
                        .as("one disconnect by the broker, for the refused AUTH").hasSize(1);
                assertThat(events.items()).filteredOn(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("planned-reconnect"))
                        .as("every later renewal is a planned reconnect").hasSizeGreaterThanOrEqualTo(LIFETIMES - 1);
                assertThat(events.items()).filteredOn(e -> e instanceof LifecycleEvent.Connected)
                        .as("every reconnect finds the session").hasSizeGreaterThanOrEqualTo(LIFETIMES + 1)
                        .allSatisfy(e -> assertThat(((MqttSession) ((LifecycleEvent.Connected) e).details()).sessionPresent()
                                || ((LifecycleEvent.Connected) e).generation() == 1).isTrue());
                assertThat(gaps.ticks()).isGreaterThan(LIFETIMES * 100);
                assertThat(gaps.nearRenewal()).as("no long stall").isLessThan(Duration.ofSeconds(2));
            } finally {
                if (ticking != null) {
                    ticking.dispose();
                }
                renewal.dispose();
                client.close().block(WAIT);
                observer.close().block(WAIT);
            }
        }
    }

    private static List<Throwable> causes(Throwable t) {
        List<Throwable> out = new ArrayList<>();
        if (t != null) {
            out.add(t);
            out.addAll(List.of(t.getSuppressed()));
            if (t.getCause() != null) {
                out.add(t.getCause());
            }
        }
        return out;
    }

    private static String brief(LifecycleEvent e) {
        if (e instanceof LifecycleEvent.Disconnected d) {
            return "Disconnected(gen " + d.generation() + ", " + d.initiator() + ", code " + d.code() + ")";
        }
        if (e instanceof LifecycleEvent.Connected c) {
            return "Connected(gen " + c.generation() + ", sessionPresent " + ((MqttSession) c.details()).sessionPresent() + ")";
        }
        if (e instanceof LifecycleEvent.Notice n) {
            return "Notice(" + n.kind() + ")";
        }
        LifecycleEvent.RetryScheduled r = (LifecycleEvent.RetryScheduled) e;
        return "RetryScheduled(" + r.delay().toMillis() + " ms, " + r.verdict() + ")";
    }
}
