package dev.tether.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Await;
import dev.tether.mqtt.MqttClient;
import dev.tether.spring.boot.internal.TetherHealthContributor;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSession;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedRetryMetrics;
import io.github.resilience4j.retry.RetryRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.ResolvableType;

/**
 * The auto-configuration in application contexts: the named clients, the server, registries, meters and health, with
 * a real embedded broker and WebSocket peers (the validation is in {@code TetherPropertiesValidationTest}).
 */
class TetherAutoConfigurationIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String C = "tether.mqtt.clients.telemetry.";

    private static Broker broker;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TetherAutoConfiguration.class, TetherHealthAutoConfiguration.class,
                    TetherMetricsAutoConfiguration.class));

    @BeforeAll
    static void startBroker() {
        broker = Broker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @Test
    void eachNamedMqttClientIsABeanNamedAfterItsKeyAndConnectsWithTheContext() {
        runner.withPropertyValues(C + "endpoints=" + broker.tcpUri(), C + "client-id=telemetry-service",
                        C + "keep-alive=30s", C + "version=3.1.1",
                        "tether.mqtt.clients.audit.endpoints=" + broker.tcpUri(), "tether.mqtt.clients.audit.client-id=audit-7")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    assertThat(ctx.getBeansOfType(MqttClient.class)).containsOnlyKeys("telemetry", "audit");
                    MqttClient telemetry = ctx.getBean("telemetry", MqttClient.class);
                    telemetry.awaitConnected(WAIT).block(WAIT);
                    ctx.getBean("audit", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                    // Seen from the broker: the client ids of the properties.
                    Await.until(() -> broker.connectedClients().containsAll(java.util.List.of("telemetry-service", "audit-7")),
                            WAIT, "both client ids, as the broker lists them (it may list a client just after its CONNACK)");
                    assertThat(telemetry.connection().name()).isEqualTo("telemetry");
                });
        Await.until(() -> !broker.connectedClients().contains("telemetry-service"), WAIT, "the client closed with the context");
    }

    @Test
    void aWebSocketServerStartsOnlyWithTheApplicationsHandlerAndWebSocketClientsAreBeansToo() {
        int port = Broker.freePort();
        runner.withPropertyValues("tether.websocket.server.port=" + port, "tether.websocket.server.host=127.0.0.1")
                .run(ctx -> assertThat(ctx).doesNotHaveBean(WebSocketServer.class));
        runner.withUserConfiguration(EchoHandler.class)
                .withPropertyValues("tether.websocket.server.port=" + port, "tether.websocket.server.host=127.0.0.1",
                        "tether.websocket.server.path=/echo", "tether.websocket.server.heartbeat.interval=5s",
                        "tether.websocket.clients.echo.endpoints=ws://127.0.0.1:" + port + "/echo")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    WebSocketServer server = ctx.getBean(WebSocketServer.class);
                    assertThat(server.port()).isEqualTo(port);
                    String[] names = ctx.getBeanNamesForType(ResolvableType.forClassWithGenerics(ResilientConnection.class,
                            WebSocketSession.class));
                    assertThat(names).containsExactly("echo");
                    @SuppressWarnings("unchecked")
                    ResilientConnection<WebSocketSession> echo = ctx.getBean("echo", ResilientConnection.class);
                    echo.awaitConnected(WAIT).block(WAIT);
                    Await.until(() -> server.sessions().count() == 1, WAIT, "the client's session on the server");
                });
        runner.withUserConfiguration(EchoHandler.class)
                .withPropertyValues("tether.websocket.server.enabled=false")
                .run(ctx -> assertThat(ctx).doesNotHaveBean(WebSocketServer.class));
    }

    @Test
    void aStartUpThatFailsAfterTheClientsConnectedClosesThem() {
        runner.withUserConfiguration(FailingLaterStep.class)
                .withPropertyValues(C + "endpoints=" + broker.tcpUri(), C + "client-id=failed-start")
                .run(ctx -> {
                    assertThat(ctx).hasFailed();
                    assertThat(ctx.getStartupFailure()).hasRootCauseMessage("a later start-up step failed");
                });
        // The client was connected when the later step failed (it waited for that); it does not stay connected:
        // Spring stops the lifecycles already started when a refresh fails, and the clients' stop closes them.
        Await.until(() -> !broker.connectedClients().contains("failed-start"), WAIT, "the client closed after the failed start");
    }

    @Test
    void theApplicationsResilience4jRegistriesHoldTheConnectionsInstances() {
        runner.withUserConfiguration(Registries.class)
                .withPropertyValues(C + "endpoints=" + broker.tcpUri())
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    ctx.getBean("telemetry", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                    assertThat(ctx.getBean(RetryRegistry.class).getAllRetries()).anyMatch(r -> r.getName().equals("telemetry"));
                    assertThat(ctx.getBean(CircuitBreakerRegistry.class).getAllCircuitBreakers())
                            .anyMatch(b -> b.getName().equals("telemetry"));
                    // Resilience4j's own Micrometer binder shows Tether's instance.
                    SimpleMeterRegistry meters = new SimpleMeterRegistry();
                    TaggedRetryMetrics.ofRetryRegistry(ctx.getBean(RetryRegistry.class)).bindTo(meters);
                    assertThat(meters.find("resilience4j.retry.calls").tag("name", "telemetry").meters()).isNotEmpty();
                });
    }

    @Test
    void tetherMetersAreBoundWhenTheApplicationHasAMeterRegistry() {
        runner.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class))
                .withBean(SimpleMeterRegistry.class)
                .withPropertyValues(C + "endpoints=" + broker.tcpUri())
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    ctx.getBean("telemetry", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                    MeterRegistry meters = ctx.getBean(MeterRegistry.class);
                    assertThat(meters.get("tether.connection.state").tag("connection", "telemetry").tag("state", "connected")
                            .gauge().value()).isEqualTo(1.0);
                    assertThat(meters.find("tether.mqtt.inbound.unacknowledged").tag("connection", "telemetry").gauge())
                            .isNotNull();
                });
    }

    @Test
    void healthIsUpOnlyWhileConnectedAndUnknownDuringTheFirstAttemptsWithinTheGrace() {
        int closed = Broker.freePort();
        runner.withPropertyValues(C + "endpoints=" + broker.tcpUri(), "tether.mqtt.clients.nowhere.endpoints=tcp://127.0.0.1:" + closed,
                        "tether.mqtt.clients.nowhere.reconnect.initial-delay=100ms", "tether.mqtt.clients.nowhere.reconnect.max-delay=200ms", "tether.health.first-connect-grace=1h")
                .run(ctx -> {
                    ctx.getBean("telemetry", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                    TetherHealthContributor tether = ctx.getBean(TetherHealthContributor.class);
                    Health up = ((HealthIndicator) tether.getContributor("telemetry")).health();
                    assertThat(up.getStatus()).isEqualTo(Status.UP);
                    assertThat(up.getDetails()).containsEntry("state", "CONNECTED").containsEntry("endpoint", broker.tcpUri())
                            .containsEntry("kind", "mqtt").containsKey("generation");
                    HealthIndicator nowhere = (HealthIndicator) tether.getContributor("nowhere");
                    Await.until(() -> nowhere.health().getDetails().containsKey("lastDisconnectCause"), WAIT, "a failed first attempt");
                    Health starting = nowhere.health();
                    assertThat(starting.getStatus()).isEqualTo(Status.UNKNOWN);
                    assertThat(starting.getDetails()).containsEntry("firstConnect", "not yet");
                });
        runner.withPropertyValues("tether.mqtt.clients.nowhere.endpoints=tcp://127.0.0.1:" + closed,
                        "tether.mqtt.clients.nowhere.reconnect.initial-delay=100ms", "tether.mqtt.clients.nowhere.reconnect.max-delay=200ms", "tether.health.first-connect-grace=0s")
                .run(ctx -> {
                    HealthIndicator nowhere = (HealthIndicator) ctx.getBean(TetherHealthContributor.class).getContributor("nowhere");
                    Await.until(() -> nowhere.health().getDetails().containsKey("lastDisconnectCause"), WAIT, "a failed first attempt");
                    assertThat(nowhere.health().getStatus()).isEqualTo(Status.DOWN);
                });
        runner.withPropertyValues(C + "endpoints=" + broker.tcpUri(), "management.health.tether.enabled=false")
                .run(ctx -> assertThat(ctx).doesNotHaveBean(TetherHealthContributor.class));
    }

    @Configuration(proxyBeanMethods = false)
    static class EchoHandler {
        @Bean
        TetherWebSocketHandler echoHandler() {
            return session -> session.send(session.receive());
        }
    }

    /** A step of the application's start-up after the clients' phase that fails once the client is connected. */
    @Configuration(proxyBeanMethods = false)
    static class FailingLaterStep {
        @Bean
        org.springframework.context.SmartLifecycle failingStep(org.springframework.beans.factory.ObjectProvider<MqttClient> client) {
            return new org.springframework.context.SmartLifecycle() {
                @Override
                public void start() {
                    client.getObject().awaitConnected(WAIT).block(WAIT);
                    throw new IllegalStateException("a later start-up step failed");
                }

                @Override
                public void stop() {
                }

                @Override
                public boolean isRunning() {
                    return false;
                }

                @Override
                public int getPhase() {
                    return TetherAutoConfiguration.CONNECTIONS_PHASE + 1;
                }
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Registries {
        @Bean
        RetryRegistry retryRegistry() {
            return RetryRegistry.ofDefaults();
        }

        @Bean
        CircuitBreakerRegistry circuitBreakerRegistry() {
            return CircuitBreakerRegistry.ofDefaults();
        }
    }

}
