package dev.tether.spring.boot.internal;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/** The {@code tether} health contributor: one indicator per connection, named after it. */
public final class TetherHealthContributor implements CompositeHealthContributor {

    private final Map<String, HealthIndicator> indicators = new ConcurrentHashMap<>();
    private final TetherConnections connections;

    /**
     * @param connections       the connections (each one built later joins)
     * @param firstConnectGrace how long the first attempts report {@code UNKNOWN}
     */
    public TetherHealthContributor(TetherConnections connections, Duration firstConnectGrace) {
        this.connections = connections;
        connections.forEach(c -> {
            ConnectionHealth h = new ConnectionHealth(c, firstConnectGrace, Clock.systemUTC());
            indicators.put(c.name(), () -> Health.status(status(h.status())).withDetails(h.details()).build());
        });
    }

    private static Status status(ConnectionHealth.Status s) {
        return switch (s) {
            case UP -> Status.UP;
            case UNKNOWN -> Status.UNKNOWN;
            case DOWN -> Status.DOWN;
            case OUT_OF_SERVICE -> Status.OUT_OF_SERVICE;
        };
    }

    @Override
    public @Nullable HealthContributor getContributor(String name) {
        return indicators.get(name);
    }

    @Override
    public Stream<Entry> stream() {
        return connections.all().stream().flatMap(c -> {
            HealthIndicator h = indicators.get(c.name());
            return h == null ? Stream.empty() : Stream.of(new Entry(c.name(), h));
        });
    }
}
