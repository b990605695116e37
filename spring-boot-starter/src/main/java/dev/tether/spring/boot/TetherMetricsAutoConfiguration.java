package dev.tether.spring.boot;

import dev.tether.spring.boot.internal.ConnectionsConfiguredCondition;
import dev.tether.spring.boot.internal.TetherConnections;
import dev.tether.spring.boot.internal.TetherMeterBinder;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;

/**
 * Tether's Micrometer meters for every connection ({@code tether.connection.*}, {@code tether.mqtt.inbound.*}),
 * tagged {@code connection=<name>}: a {@code MeterBinder} that Spring Boot's metrics auto-configuration binds to the
 * application's {@link MeterRegistry}. The application's Micrometer is used as it is: Tether's modules take
 * Micrometer as an optional dependency and bring no version of their own.
 */
@AutoConfiguration(after = TetherAutoConfiguration.class)
@ConditionalOnClass(MeterRegistry.class)
@Conditional(ConnectionsConfiguredCondition.class)
public class TetherMetricsAutoConfiguration {

    /** Creates the auto-configuration (Spring does). */
    public TetherMetricsAutoConfiguration() {
    }

    /**
     * @param connections the connections
     * @return the binder of their meters
     */
    @Bean
    TetherMeterBinder tetherMeterBinder(TetherConnections connections) {
        return new TetherMeterBinder(connections);
    }
}
