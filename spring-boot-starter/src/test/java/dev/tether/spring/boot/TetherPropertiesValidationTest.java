package dev.tether.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.mqtt.MqttClient;
import dev.tether.spring.boot.internal.ConnectionFactory;
import dev.tether.spring.boot.internal.InvalidPropertyFailureAnalyzer;
import dev.tether.spring.boot.internal.TetherConnections;
import dev.tether.spring.boot.internal.TetherHealthContributor;
import dev.tether.websocket.Heartbeat;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSessionSpec;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The conditions and the validation of every property group: an invalid property stops start-up before anything
 * connects, with a failure analysis naming the property, the value and what would be valid. No socket is opened.
 */
class TetherPropertiesValidationTest {

    private static final String C = "tether.mqtt.clients.telemetry.";
    /** Never connected to: every context here fails before its clients start. */
    private static final String ENDPOINT = "tcp://127.0.0.1:1883";

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TetherAutoConfiguration.class, TetherHealthAutoConfiguration.class,
                    TetherMetricsAutoConfiguration.class));

    @Test
    void withoutPropertiesThereIsNoClientNoServerAndNoHealthContributor() {
        runner.run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx).doesNotHaveBean(MqttClient.class);
            assertThat(ctx).doesNotHaveBean(WebSocketServer.class);
            assertThat(ctx).doesNotHaveBean(TetherHealthContributor.class);
            assertThat(ctx.getBeanNamesForType(ResilientConnection.class)).isEmpty();
        });
    }

    @Test
    void invalidMqttPropertiesStopStartUpNamingThePropertyTheValueAndWhatIsValid() {
        assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "version=4"),
                C + "version", "'4'", "5 or 3.1.1");
        assertInvalid(runner.withPropertyValues(C + "endpoints=http://broker.example"),
                C + "endpoints[0]", "'http://broker.example'", "http");
        assertInvalid(runner.withPropertyValues(C + "client-id=no-endpoint"),
                C + "endpoints", "(not set)", "tcp://broker.example:1883");
        assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "keep-alive=-5s"),
                C + "keep-alive", "'PT-5S'", "keepAlive");
        assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "will.payload=gone"),
                C + "will.topic", "(not set)", "topic");
        assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "reconnect.initial-delay=1m",
                C + "reconnect.max-delay=1s"), C + "reconnect.initial-delay", "'PT1M'", "maxDelay");
        assertInvalid(runner.withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class))
                        .withPropertyValues(C + "endpoints=" + ENDPOINT, C + "tls.bundle=missing"),
                C + "tls.bundle", "'missing'", "spring.ssl.bundle");
    }

    @Test
    void valuesSpringCannotConvertAreReportedByItsBindingWithTheProperty() {
        runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "keep-alive=soon").run(ctx -> {
            assertThat(ctx).hasFailed();
            Throwable t = ctx.getStartupFailure();
            while (t != null && !(t instanceof BindException)) {
                t = t.getCause();
            }
            assertThat(t).as("a BindException in " + ctx.getStartupFailure()).isInstanceOf(BindException.class);
            BindException bind = (BindException) t;
            assertThat(bind.getProperty()).isNotNull();
            assertThat(bind.getProperty().getName().toString()).isEqualTo(C + "keep-alive");
            assertThat(String.valueOf(bind.getProperty().getValue())).isEqualTo("soon");
        });
    }

    @Test
    void invalidJwtPropertiesNameThePropertyAndNeverShowTheSecret() {
        String shortSecret = "too-short-secret";
        FailureAnalysis a = assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "jwt.algorithm=HS256",
                C + "jwt.secret=" + shortSecret), C + "jwt.secret", "'****'", "32 bytes");
        assertThat(a.getDescription() + a.getAction()).doesNotContain(shortSecret);
        assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "jwt.algorithm=HS256"),
                C + "jwt.secret", "(not set)", "32 bytes");
        assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "jwt.algorithm=none",
                C + "jwt.secret=" + "s".repeat(40)), C + "jwt.algorithm", "'none'", "HS256");
        assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "jwt.algorithm=RS256"),
                C + "jwt.key-location", "(not set)", "PKCS#8");
        assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "jwt.algorithm=ES256",
                C + "jwt.key-location=classpath:no-such-key.pem"), C + "jwt.key-location", "'classpath:no-such-key.pem'", "readable");
        assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "jwt.algorithm=HS256",
                        C + "jwt.secret=" + "s".repeat(40), C + "jwt.token-endpoint.uri=https://issuer.example/token"),
                C + "jwt.token-endpoint.uri", "'https://issuer.example/token'", "not both");
        assertInvalid(runner.withPropertyValues(C + "endpoints=" + ENDPOINT, C + "jwt.token-endpoint.uri=https://issuer.example/token"),
                C + "jwt.token-endpoint.client-id", "(not set)", "client id");
    }

    @Test
    void invalidWebSocketPropertiesNameThePropertyToo() {
        assertInvalid(runner.withPropertyValues("tether.websocket.clients.feed.endpoints=tcp://127.0.0.1:1883"),
                "tether.websocket.clients.feed.endpoints[0]", "'tcp://127.0.0.1:1883'", "ws://");
        assertInvalid(runner.withPropertyValues("tether.websocket.clients.feed.headers.X-Team=blue"),
                "tether.websocket.clients.feed.endpoints", "(not set)", "ws://");
        assertInvalid(runner.withUserConfiguration(EchoHandler.class).withPropertyValues("tether.websocket.server.port=70000"),
                "tether.websocket.server.port", "'70000'", "port");
        assertInvalid(runner.withUserConfiguration(EchoHandler.class).withPropertyValues("tether.websocket.server.path=echo"),
                "tether.websocket.server.path", "'echo'", "/");
    }


    @Test
    void theDefaultsOfThePropertiesAreTheLibrarysDefaults() {
        TetherProperties bound = new Binder(new MapConfigurationPropertySource(Map.of(C + "client-id", "x",
                "tether.websocket.clients.feed.endpoints", "ws://127.0.0.1:1/feed")))
                .bind("tether", TetherProperties.class).get();
        TetherProperties.MqttClient mqtt = bound.mqtt().clients().get("telemetry");
        ConnectionFactory factory = new ConnectionFactory(bound, new TetherConnections(), java.util.List.of(),
                java.util.List.of(), null, null, null, new org.springframework.core.io.DefaultResourceLoader());
        assertThat(factory.reconnect("c", "p", mqtt.reconnect())).isEqualTo(ReconnectPolicy.defaults());
        assertThat(factory.reconnect("feed", "p", bound.websocket().clients().get("feed").reconnect())).isEqualTo(ReconnectPolicy.defaults());
        assertThat(mqtt.keepAlive()).isEqualTo(MqttClient.Builder.DEFAULT_KEEP_ALIVE);
        assertThat(mqtt.pingTimeout()).isEqualTo(MqttClient.Builder.DEFAULT_PING_TIMEOUT);
        assertThat(mqtt.connackTimeout()).isEqualTo(MqttClient.Builder.DEFAULT_CONNACK_TIMEOUT);
        assertThat(mqtt.sessionExpiry()).isEqualTo(MqttClient.Builder.DEFAULT_SESSION_EXPIRY);
        assertThat(mqtt.drainTimeout()).isEqualTo(MqttClient.Builder.DEFAULT_DRAIN_TIMEOUT);
        assertThat(mqtt.maxInFlight()).isEqualTo(MqttClient.Builder.DEFAULT_MAX_IN_FLIGHT);
        assertThat(mqtt.receiveMaximum()).isEqualTo(MqttClient.Builder.DEFAULT_RECEIVE_MAXIMUM);
        assertThat(mqtt.offlineBuffer().capacity()).isEqualTo(MqttClient.Builder.DEFAULT_OFFLINE_CAPACITY);
        assertThat(mqtt.offlineBuffer().overflow()).isEqualTo(MqttClient.Builder.DEFAULT_OVERFLOW_POLICY);
        TetherProperties.Server server = bound.websocket().server();
        assertThat(server.drainTimeout()).isEqualTo(WebSocketServer.DEFAULT_DRAIN_TIMEOUT);
        assertThat(server.handshakeTimeout()).isEqualTo(WebSocketServer.DEFAULT_HANDSHAKE_TIMEOUT);
        assertThat(server.closeHandshakeTimeout()).isEqualTo(WebSocketSessionSpec.DEFAULT_CLOSE_HANDSHAKE_TIMEOUT);
        assertThat(server.heartbeat().interval()).isEqualTo(Heartbeat.DEFAULT_INTERVAL);
        assertThat(server.heartbeat().pongTimeout()).isEqualTo(Heartbeat.DEFAULT_PONG_TIMEOUT);
        assertThat(bound.websocket().clients().get("feed").handshakeTimeout()).isEqualTo(WebSocketClient.DEFAULT_HANDSHAKE_TIMEOUT);
    }

    @Test
    void secretsNeverAppearInThePropertiesToString() {
        Map<String, String> values = Map.of(C + "endpoints", ENDPOINT, C + "jwt.algorithm", "HS256",
                C + "jwt.secret", "hs256-secret-value-of-at-least-32-bytes",
                "tether.websocket.clients.feed.endpoints", "ws://127.0.0.1:1/feed",
                "tether.websocket.clients.feed.headers.X-Api-Key", "api-key-value",
                "tether.websocket.clients.feed.jwt.token-endpoint.uri", "https://issuer.example/token",
                "tether.websocket.clients.feed.jwt.token-endpoint.client-id", "svc",
                "tether.websocket.clients.feed.jwt.token-endpoint.client-secret", "client-secret-value");
        TetherProperties bound = new Binder(new MapConfigurationPropertySource(values)).bind("tether", TetherProperties.class)
                .get();
        assertThat(bound.mqtt().clients().get("telemetry").jwt().secret()).isEqualTo("hs256-secret-value-of-at-least-32-bytes");
        assertThat(bound.toString()).contains("telemetry").contains("X-Api-Key").contains("****")
                .doesNotContain("hs256-secret-value").doesNotContain("api-key-value").doesNotContain("client-secret-value");
    }

    @Test
    void anInvalidPropertyStopsARealStartWithAFailureAnalysis() {
        // Spring Boot reports the analysis through its logging, which it re-initializes: read the console.
        PrintStream console = System.out;
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                console.write(b);
                copy.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                console.write(b, off, len);
                copy.write(b, off, len);
            }
        }, true));
        try {
            assertThatThrownBy(() -> new SpringApplicationBuilder(App.class).properties("spring.main.web-application-type=none",
                    C + "endpoints=" + ENDPOINT, C + "version=4").run())
                    .hasRootCauseInstanceOf(InvalidTetherPropertyException.class);
        } finally {
            System.setOut(console);
        }
        assertThat(copy.toString(StandardCharsets.UTF_8)).contains("APPLICATION FAILED TO START")
                .contains("Property: tether.mqtt.clients.telemetry.version").contains("Value: '4'")
                .contains("Expected: 5 or 3.1.1").contains("Set tether.mqtt.clients.telemetry.version");
    }

    @Test
    void theServerOnSpringsListenerRefusesWhatSpringsServerOwnsAndAnApplicationWithoutWebFluxOnNetty() {
        ApplicationContextRunner spring = runner.withUserConfiguration(EchoHandler.class)
                .withPropertyValues("tether.websocket.server.listener=spring");
        assertInvalid(spring.withPropertyValues("tether.websocket.server.port=8081"), "tether.websocket.server.port",
                "'8081'", "tether.websocket.server.listener=own");
        assertInvalid(spring.withPropertyValues("tether.websocket.server.host=127.0.0.1"), "tether.websocket.server.host",
                "'127.0.0.1'", "server.*");
        assertInvalid(spring.withPropertyValues("tether.websocket.server.handshake-timeout=3s"),
                "tether.websocket.server.handshake-timeout", "'PT3S'", "remove");
        assertInvalid(spring.withBean(TetherWebSocketServerCustomizer.class, () -> b -> b.port(9000)),
                "tether.websocket.server.listener", "'spring'", "port (9000)");
        // Not a web application (this runner): nothing to mount the server on.
        assertInvalid(spring, "tether.websocket.server.listener", "'spring'", "not a web application");
    }

    private static FailureAnalysis assertInvalid(ApplicationContextRunner r, String property, String value, String valid) {
        FailureAnalysis[] analysis = new FailureAnalysis[1];
        r.run((AssertableApplicationContext ctx) -> {
            assertThat(ctx).hasFailed();
            FailureAnalysis a = new InvalidPropertyFailureAnalyzer().analyze(ctx.getStartupFailure());
            assertThat(a).as("a failure analysis for " + property + " of " + ctx.getStartupFailure()).isNotNull();
            assertThat(a.getDescription()).contains("Property: " + property + "\n").contains("Value: " + value).contains(valid);
            assertThat(a.getAction()).contains(property);
            analysis[0] = a;
        });
        return analysis[0];
    }

    @Configuration(proxyBeanMethods = false)
    static class EchoHandler {
        @Bean
        TetherWebSocketHandler echoHandler() {
            return session -> session.send(session.receive());
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
    }
}
