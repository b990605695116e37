package dev.tether.spring.boot;

import dev.tether.core.ResilientConnection;
import dev.tether.mqtt.MqttClient;
import dev.tether.spring.boot.internal.ClientBeansRegistrar;
import dev.tether.spring.boot.internal.ConnectionFactory;
import dev.tether.spring.boot.internal.ConnectionsLifecycle;
import dev.tether.spring.boot.internal.TetherConnections;
import dev.tether.spring.boot.internal.SpringListener;
import dev.tether.spring.boot.internal.SpringListenerCheck;
import dev.tether.spring.boot.internal.WebSocketServerLifecycle;
import dev.tether.websocket.WebSocketServer;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.RetryRegistry;
import java.time.Duration;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.io.ResourceLoader;

/**
 * Tether's auto-configuration: one {@link MqttClient} bean per {@code tether.mqtt.clients.<name>}, one
 * {@code ResilientConnection<WebSocketSession>} bean per {@code tether.websocket.clients.<name>}, each named after
 * its key, and a {@link WebSocketServer} when the application declares a {@link TetherWebSocketHandler}.
 *
 * <p><b>Order.</b> The clients start with the context before the web servers ({@link #CONNECTIONS_PHASE}) and close
 * after them. On shutdown the WebSocket server ({@link #WEBSOCKET_SERVER_PHASE}, the phase of Spring Boot's graceful
 * web server shutdown, on its own port; {@link #WEBSOCKET_SERVER_ON_SPRING_PHASE}, just before it, on Spring's server)
 * first publishes {@code ReadinessState.REFUSING_TRAFFIC}, then drains its sessions (the announcer's goodbye, close
 * 1001, bounded by {@code tether.websocket.server.drain-timeout}); only then do the clients close gracefully (MQTT
 * DISCONNECT), so the sessions that consume their messages are gone first.
 *
 * <p>With {@code tether.websocket.server.listener=spring} the server's path is mounted on Spring WebFlux's server on
 * Reactor Netty (a handler mapping ordered before the application's router functions and controllers): same port,
 * and the drain is over before Spring's graceful shutdown starts.
 *
 * <p>The application's Resilience4j {@link RetryRegistry} and {@link CircuitBreakerRegistry} beans, when present,
 * hold each connection's {@code Retry} and circuit breaker, named after the connection: with Resilience4j's
 * {@code resilience4j-spring-boot4} module, which makes those beans, its actuator endpoints and meters show the
 * connections. A {@code Retry} already in the registry under a connection's name stops start-up with a failure
 * analysis (the connection's retries follow its {@code reconnect.*} properties); a circuit breaker already there is
 * the one the connection uses.
 */
@AutoConfiguration
@EnableConfigurationProperties(TetherProperties.class)
@Import(ClientBeansRegistrar.class)
public class TetherAutoConfiguration {

    /** The lifecycle phase of the clients: below the web servers', so they start first and stop last. */
    public static final int CONNECTIONS_PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    /** The lifecycle phase of the WebSocket server: Spring Boot's graceful web server shutdown phase. */
    public static final int WEBSOCKET_SERVER_PHASE = SmartLifecycle.DEFAULT_PHASE - 1024;

    /**
     * The lifecycle phase of the WebSocket server on Spring's own HTTP server: above Spring Boot's graceful shutdown
     * phase, so its sessions are drained before the web server stops accepting and closes connections.
     */
    public static final int WEBSOCKET_SERVER_ON_SPRING_PHASE = SmartLifecycle.DEFAULT_PHASE - 512;

    /** How long closing every client may take on shutdown before what is left is aborted. */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(15);

    /** Creates the auto-configuration (Spring does). */
    public TetherAutoConfiguration() {
    }

    /**
     * @return the registry of the connections built here
     */
    @Bean
    TetherConnections tetherConnections() {
        return new TetherConnections();
    }

    /**
     * @param properties             the properties
     * @param connections            the registry
     * @param mqttCustomizers        the application's MQTT customizers
     * @param webSocketCustomizers   the application's WebSocket client customizers
     * @param retryRegistry          the application's Resilience4j retry registry
     * @param circuitBreakerRegistry the application's Resilience4j circuit-breaker registry
     * @param sslBundles             Spring's SSL bundles
     * @param resourceLoader         the resource loader
     * @return the factory of the named clients
     */
    @Bean
    ConnectionFactory tetherConnectionFactory(TetherProperties properties, TetherConnections connections,
                                              ObjectProvider<TetherMqttClientCustomizer> mqttCustomizers,
                                              ObjectProvider<TetherWebSocketClientCustomizer> webSocketCustomizers,
                                              ObjectProvider<RetryRegistry> retryRegistry,
                                              ObjectProvider<CircuitBreakerRegistry> circuitBreakerRegistry,
                                              ObjectProvider<SslBundles> sslBundles, ResourceLoader resourceLoader) {
        return new ConnectionFactory(properties, connections, mqttCustomizers.orderedStream().toList(),
                webSocketCustomizers.orderedStream().toList(),
                retryRegistry.getIfUnique(), circuitBreakerRegistry.getIfUnique(), sslBundles.getIfAvailable(),
                resourceLoader);
    }

    /**
     * @param connections the registry
     * @param beans       the bean factory, to create every client before starting them
     * @return the lifecycle of the clients
     */
    @Bean
    ConnectionsLifecycle tetherConnectionsLifecycle(TetherConnections connections, ListableBeanFactory beans) {
        return new ConnectionsLifecycle(connections, () -> {
            beans.getBeansOfType(MqttClient.class);
            beans.getBeansOfType(ResilientConnection.class);
        }, CONNECTIONS_PHASE, CLOSE_TIMEOUT);
    }

    /** The WebSocket server, when the application has a handler for it. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBean(TetherWebSocketHandler.class)
    @ConditionalOnBooleanProperty(name = "tether.websocket.server.enabled", matchIfMissing = true)
    static class WebSocketServerConfiguration {

        /**
         * @param properties  the properties
         * @param handler     the application's handler
         * @param customizers the application's server customizers
         * @return the server
         */
        @Bean
        @ConditionalOnMissingBean
        WebSocketServer tetherWebSocketServer(TetherProperties properties, TetherWebSocketHandler handler,
                                              ObjectProvider<TetherWebSocketServerCustomizer> customizers) {
            return dev.tether.spring.boot.internal.ServerFactory.build(properties.websocket().server(), handler,
                    customizers.orderedStream().toList());
        }

        /**
         * @param server  the server
         * @param events  the application's event publisher
         * @param context the application context (where the server is mounted)
         * @return its lifecycle
         */
        @Bean
        WebSocketServerLifecycle tetherWebSocketServerLifecycle(WebSocketServer server, ApplicationEventPublisher events,
                                                                ApplicationContext context) {
            if (!server.isHosted()) {
                return new WebSocketServerLifecycle(server, events, WEBSOCKET_SERVER_PHASE, () -> { });
            }
            boolean mounted = context.containsBeanDefinition(MAPPING);
            SpringListenerCheck.check(context, mounted, false);
            return new WebSocketServerLifecycle(server, events, WEBSOCKET_SERVER_ON_SPRING_PHASE,
                    () -> SpringListenerCheck.check(context, mounted, true));
        }

        /** Mounts the server on Spring WebFlux's server: {@code tether.websocket.server.listener=spring}. */
        @Configuration(proxyBeanMethods = false)
        @ConditionalOnClass(name = {"org.springframework.web.reactive.DispatcherHandler",
                "org.springframework.boot.reactor.netty.NettyWebServer"})
        @ConditionalOnProperty(name = "tether.websocket.server.listener", havingValue = "spring")
        static class OnSpringServer {

            /**
             * @param server     the hosted server
             * @param properties the properties (its path)
             * @return the handler mapping of its path
             */
            @Bean(MAPPING)
            SpringListener tetherWebSocketMapping(WebSocketServer server, TetherProperties properties) {
                return new SpringListener(server, properties.websocket().server().path());
            }
        }
    }

    /** The bean name of the handler mapping that mounts the server on Spring's HTTP server. */
    static final String MAPPING = "tetherWebSocketMapping";

}
