package dev.tether.samples.security;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Recorder;
import dev.tether.jwt.JwtCredentialsProvider;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.JwtVerifier;
import dev.tether.jwt.TokenMapping;
import dev.tether.mqtt.MqttClient;
import dev.tether.samples.broker.JwtBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * A full reconnect-with-refresh cycle with every Tether logger at DEBUG, over TCP and WebSocket:
 * refused token, refresh, connect, broker drop, reconnect, close. Not one log line, exception text
 * or event's {@code toString()} may contain a token or the signing secret.
 */
class SecretsNeverLoggedIT {

    private static final String SECRET = "signing-secret-that-must-never-be-logged-0123";

    @Test
    void noTokenOrSecretInAnyLogLineOrEvent() {
        Logger tether = (Logger) LoggerFactory.getLogger("dev.tether");
        Level previous = tether.getLevel();
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        tether.addAppender(captured);
        tether.setLevel(Level.DEBUG);
        Set<String> secrets = ConcurrentHashMap.newKeySet();
        secrets.add(SECRET);
        try (JwtBroker broker = JwtBroker.start(JwtVerifier.builder().hmacSecret(SECRET.getBytes(StandardCharsets.UTF_8)).build(), why -> { })) {
            JwtSigner signer = JwtSigner.builder().hs256(SECRET.getBytes(StandardCharsets.UTF_8)).subject("secretive").build();
            JwtCredentialsProvider tokens = JwtCredentialsProvider.builder().selfSigned(signer).mapping(TokenMapping.password("secretive")).build();
            for (String uri : List.of(broker.tcpUri(), broker.wsUri())) {
                AtomicBoolean first = new AtomicBoolean(true);
                CredentialsProvider recording = request -> (first.getAndSet(false)
                        ? Mono.fromSupplier(() -> Credentials.of("secretive", signer.sign(Instant.now().minus(Duration.ofHours(1)))))
                        : tokens.credentials(request))
                        .doOnNext(c -> c.secret().ifPresent(secrets::add));
                MqttClient client = MqttClient.builder().endpoint(uri).clientId("secretive")
                        .credentials(recording).reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).build()).build();
                try (Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle())) {
                    client.start();
                    events.next(LifecycleEvent.CredentialsRefreshed.class, Duration.ofSeconds(20));
                    events.next(LifecycleEvent.Connected.class, Duration.ofSeconds(20));
                    broker.stop();
                    events.next(LifecycleEvent.Disconnected.class, Duration.ofSeconds(20));
                    broker.start();
                    events.next(LifecycleEvent.Connected.class, Duration.ofSeconds(20));
                    client.close().block(Duration.ofSeconds(10));
                    for (LifecycleEvent e : events.items()) {
                        String text = e.toString();
                        secrets.forEach(s -> assertThat(text).as("event " + e.getClass().getSimpleName()).doesNotContain(s));
                    }
                }
            }
        } finally {
            tether.detachAppender(captured);
            tether.setLevel(previous);
        }
        assertThat(secrets).hasSizeGreaterThanOrEqualTo(5);
        assertThat(captured.list).as("the cycle was logged at all").hasSizeGreaterThan(5);
        for (ILoggingEvent e : captured.list) {
            String text = e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(e.getThrowableProxy()));
            for (String s : secrets) {
                assertThat(text).as("log line of " + e.getLoggerName()).doesNotContain(s);
                // Also the signature part alone (a token cut in a message must not leak its signature either).
                if (s.chars().filter(ch -> ch == '.').count() == 2) {
                    assertThat(text).doesNotContain(s.substring(s.lastIndexOf('.') + 1));
                }
            }
        }
    }
}
