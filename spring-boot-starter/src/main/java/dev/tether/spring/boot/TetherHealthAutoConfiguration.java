package dev.tether.spring.boot;

import dev.tether.spring.boot.internal.ConnectionsConfiguredCondition;
import dev.tether.spring.boot.internal.ReadinessGroupPostProcessor;
import dev.tether.spring.boot.internal.TetherConnections;
import dev.tether.spring.boot.internal.TetherHealthContributor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroupsPostProcessor;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;

/**
 * Health of Tether's connections: the {@code tether} contributor holds one indicator per connection, named after it
 * ({@code /actuator/health/tether/<name>}), with the connection's state, endpoint, generation, last disconnect cause
 * and next retry.
 *
 * <p>{@code UP} only while connected. A connection that has never connected reports {@code UNKNOWN} while on its
 * first attempts, for at most {@code tether.health.first-connect-grace} (then {@code DOWN}): Spring Boot's aggregate
 * puts {@code UNKNOWN} below {@code UP}, so a service starting next to its broker is not reported down, yet one that
 * never reaches it is. After a lost session it is {@code DOWN} until it reconnects; closed on request (shutdown),
 * {@code OUT_OF_SERVICE}. Turned off with {@code management.health.tether.enabled=false}.
 *
 * <p>With {@code tether.health.readiness=true} the contributor also joins the {@code readiness} group of Spring Boot's
 * availability probes ({@code management.endpoint.health.probes.enabled=true}).
 */
// After the availability probes, so the readiness group exists when Tether joins it (both post-processors have the
// lowest precedence and run in registration order).
@AutoConfiguration(after = TetherAutoConfiguration.class,
        afterName = "org.springframework.boot.health.autoconfigure.actuate.endpoint.AvailabilityProbesAutoConfiguration")
@ConditionalOnClass(HealthContributor.class)
@ConditionalOnEnabledHealthIndicator("tether")
@Conditional(ConnectionsConfiguredCondition.class)
public class TetherHealthAutoConfiguration {

    /** Creates the auto-configuration (Spring does). */
    public TetherHealthAutoConfiguration() {
    }

    /**
     * @param connections the connections
     * @param properties  the properties
     * @return the {@code tether} contributor
     */
    @Bean
    TetherHealthContributor tetherHealthContributor(TetherConnections connections, TetherProperties properties) {
        return new TetherHealthContributor(connections, properties.health().firstConnectGrace());
    }

    /** Joins the readiness group when asked to. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthEndpointGroupsPostProcessor.class)
    @ConditionalOnBooleanProperty("tether.health.readiness")
    static class Readiness {

        /** @return the post-processor that adds {@code tether} to the readiness group */
        @Bean
        ReadinessGroupPostProcessor tetherReadinessGroupPostProcessor() {
            return new ReadinessGroupPostProcessor();
        }
    }
}
