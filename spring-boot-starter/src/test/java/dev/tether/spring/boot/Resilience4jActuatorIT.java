package dev.tether.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.testing.Await;
import dev.tether.mqtt.MqttClient;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.RetryRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * A real application (WebFlux, actuator) with Resilience4j's own Spring Boot 4 module beside the starter: its
 * registries hold Tether's connection, and its endpoints and meters report the connection's real retries against an
 * embedded broker that goes away and comes back.
 */
class Resilience4jActuatorIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String C = "tether.mqtt.clients.telemetry.";

    @Test
    void resilience4jsEndpointsAndMetersShowTheConnectionsRetries() {
        try (Broker broker = Broker.start()) {
            ConfigurableApplicationContext ctx = new SpringApplicationBuilder(App.class).properties(
                    "server.port=0", "server.address=127.0.0.1",
                    "management.endpoints.web.exposure.include=health,metrics,retries,retryevents,circuitbreakers",
                    C + "endpoints=" + broker.tcpUri(), C + "client-id=r4j-telemetry",
                    C + "reconnect.initial-delay=100ms", C + "reconnect.max-delay=300ms").run();
            try {
                WebClient http = LocalHttp.of(ctx);
                MqttClient client = ctx.getBean("telemetry", MqttClient.class);
                client.awaitConnected(WAIT).block(WAIT);

                // Resilience4j's module made the registries; the starter put the connection's instances in them.
                assertThat(ctx.getBean(RetryRegistry.class).getAllRetries()).anyMatch(r -> r.getName().equals("telemetry"));
                assertThat(LocalHttp.get(http, "/actuator/retries")).contains("\"telemetry\"");
                assertThat(LocalHttp.get(http, "/actuator/circuitbreakers")).contains("\"telemetry\"");

                // The broker goes away: each failed reconnect is a Resilience4j retry, in Resilience4j's own account.
                broker.stop();
                Await.until(() -> count(LocalHttp.get(http, "/actuator/retryevents/telemetry"), "\"type\":\"RETRY\"") >= 2, WAIT,
                        "two RETRY events of 'telemetry' in /actuator/retryevents");
                assertThat(LocalHttp.get(http, "/actuator/retryevents/telemetry")).contains("\"retryName\":\"telemetry\"");

                // It comes back: the reconnect is a call that succeeded after retries, event and meter alike.
                broker.restart();
                client.awaitConnected(WAIT).block(WAIT);
                Await.until(() -> LocalHttp.get(http, "/actuator/retryevents/telemetry").contains("\"type\":\"SUCCESS\""), WAIT,
                        "a SUCCESS event of 'telemetry' after the broker came back");
                Await.until(() -> value(LocalHttp.get(http, "/actuator/metrics/resilience4j.retry.calls"
                        + "?tag=name:telemetry&tag=kind:successful_with_retry")) >= 1, WAIT,
                        "resilience4j.retry.calls{name=telemetry,kind=successful_with_retry} >= 1");
            } finally {
                ctx.close();
            }
            // The context closed its client: gone from the broker.
            Await.until(() -> !broker.connectedClients().contains("r4j-telemetry"), WAIT, "the client gone from the broker");
        }
    }

    @Test
    void aCircuitBreakerConfiguredInResilience4jsPropertiesIsTheOneTheConnectionUses() {
        try (Broker broker = Broker.start()) {
            ConfigurableApplicationContext ctx = new SpringApplicationBuilder(App.class).properties(
                    "server.port=0", "server.address=127.0.0.1",
                    "resilience4j.circuitbreaker.instances.telemetry.sliding-window-size=7",
                    "resilience4j.circuitbreaker.instances.telemetry.register-health-indicator=true",
                    "management.health.circuitbreakers.enabled=true", "management.endpoint.health.show-details=always",
                    C + "endpoints=" + broker.tcpUri(), C + "client-id=r4j-breaker").run();
            try {
                ctx.getBean("telemetry", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                CircuitBreaker breaker = ctx.getBean(CircuitBreakerRegistry.class).find("telemetry").orElseThrow();
                assertThat(breaker.getCircuitBreakerConfig().getSlidingWindowSize()).isEqualTo(7);
                // The connection's attempt went through this breaker.
                assertThat(breaker.getMetrics().getNumberOfSuccessfulCalls()).isGreaterThanOrEqualTo(1);
                // Resilience4j's health indicator reports it (closed: the connection's attempt succeeded).
                WebClient http = LocalHttp.of(ctx);
                assertThat(LocalHttp.get(http, "/actuator/health")).containsPattern(
                        "\"circuitBreakers\":\\{.*\"telemetry\":\\{.*\"state\":\"CLOSED\"");
            } finally {
                ctx.close();
            }
        }
    }

    @Test
    void aRetryConfiguredInResilience4jsPropertiesUnderAConnectionsNameStopsStartUpNamingBoth() {
        try (Broker broker = Broker.start()) {
            SpringApplicationBuilder app = new SpringApplicationBuilder(App.class).properties(
                    "server.port=0", "server.address=127.0.0.1",
                    "resilience4j.retry.instances.telemetry.max-attempts=3",
                    C + "endpoints=" + broker.tcpUri(), C + "client-id=r4j-clash");
            assertThatThrownBy(app::run).rootCause().isInstanceOf(InvalidTetherPropertyException.class)
                    .hasMessageContaining("tether.mqtt.clients.telemetry")
                    .hasMessageContaining("resilience4j.retry.instances.telemetry")
                    .hasMessageContaining("tether.mqtt.clients.telemetry.reconnect.*");
            assertThat(broker.connectedClients()).doesNotContain("r4j-clash");
        }
    }

    @Test
    void retryEventsNameTheBrokersRefusalButNeverTheTokenOrTheSecret() {
        String secret = "r4j-events-secret-of-at-least-32-bytes";
        List<String> passwords = new CopyOnWriteArrayList<>();
        AtomicInteger connects = new AtomicInteger();
        // The broker refuses the first two CONNECTs (bad user name or password), then lets the client in.
        try (Broker broker = Broker.start((clientId, user, password) -> {
            passwords.add(new String(password, StandardCharsets.UTF_8));
            return connects.incrementAndGet() > 2;
        }, e -> { })) {
            ConfigurableApplicationContext ctx = new SpringApplicationBuilder(App.class).properties(
                    "server.port=0", "server.address=127.0.0.1", "management.endpoints.web.exposure.include=retryevents",
                    C + "endpoints=" + broker.tcpUri(), C + "client-id=r4j-refused",
                    C + "reconnect.initial-delay=100ms", C + "reconnect.max-delay=300ms",
                    C + "jwt.algorithm=HS256", C + "jwt.secret=" + secret, C + "jwt.subject=r4j-refused").run();
            try {
                WebClient http = LocalHttp.of(ctx);
                ctx.getBean("telemetry", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                Await.until(() -> LocalHttp.get(http, "/actuator/retryevents/telemetry")
                        .contains("\"type\":\"SUCCESS\""), WAIT, "a SUCCESS event after two refusals");
                String events = LocalHttp.get(http, "/actuator/retryevents/telemetry");
                assertThat(count(events, "\"type\":\"RETRY\"")).isEqualTo(2);
                assertThat(events).contains("the broker refused the connection: CONNACK");
                assertThat(passwords).hasSizeGreaterThanOrEqualTo(3).allSatisfy(token -> assertThat(token).startsWith("eyJ"));
                for (String token : passwords) {
                    assertThat(events).doesNotContain(token);
                }
                assertThat(events).doesNotContain(secret).doesNotContain("eyJ");
            } finally {
                ctx.close();
            }
        }
    }

    private static int count(String body, String what) {
        int n = 0;
        for (int i = body.indexOf(what); i >= 0; i = body.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** @return the first measurement's value in a /actuator/metrics answer, or -1 when there is none */
    private static double value(String body) {
        Matcher m = Pattern.compile("\"value\":([0-9.Ee+-]+)").matcher(body);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }


    /** The application: nothing of its own but the starter's client and Resilience4j's module. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
    }
}
