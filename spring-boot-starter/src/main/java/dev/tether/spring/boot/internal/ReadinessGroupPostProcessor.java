package dev.tether.spring.boot.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.health.actuate.endpoint.AdditionalHealthEndpointPath;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroup;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroupsPostProcessor;
import org.springframework.boot.health.actuate.endpoint.HttpCodeStatusMapper;
import org.springframework.boot.health.actuate.endpoint.StatusAggregator;
import org.jspecify.annotations.Nullable;

/**
 * Adds the {@code tether} contributor to the {@code readiness} health group ({@code tether.health.readiness=true}):
 * an instance whose connections are down then reports not ready. The group itself comes from Spring Boot's
 * availability probes ({@code management.endpoint.health.probes.enabled}); without it nothing changes.
 */
public final class ReadinessGroupPostProcessor implements HealthEndpointGroupsPostProcessor {

    /** The name of the contributor and of the group. */
    static final String TETHER = "tether";
    static final String READINESS = "readiness";

    @Override
    public HealthEndpointGroups postProcessHealthEndpointGroups(HealthEndpointGroups groups) {
        HealthEndpointGroup readiness = groups.get(READINESS);
        if (readiness == null) {
            return groups;
        }
        Map<String, HealthEndpointGroup> all = new LinkedHashMap<>();
        for (String name : groups.getNames()) {
            HealthEndpointGroup g = groups.get(name);
            if (g != null) {
                all.put(name, name.equals(READINESS) ? new WithTether(g) : g);
            }
        }
        return HealthEndpointGroups.of(groups.getPrimary(), all);
    }

    private record WithTether(HealthEndpointGroup delegate) implements HealthEndpointGroup {

        @Override
        public boolean isMember(String name) {
            return name.equals(TETHER) || name.startsWith(TETHER + "/") || delegate.isMember(name);
        }

        @Override
        public boolean showComponents(SecurityContext securityContext) {
            return delegate.showComponents(securityContext);
        }

        @Override
        public boolean showDetails(SecurityContext securityContext) {
            return delegate.showDetails(securityContext);
        }

        @Override
        public StatusAggregator getStatusAggregator() {
            return delegate.getStatusAggregator();
        }

        @Override
        public HttpCodeStatusMapper getHttpCodeStatusMapper() {
            return delegate.getHttpCodeStatusMapper();
        }

        @Override
        public @Nullable AdditionalHealthEndpointPath getAdditionalPath() {
            return delegate.getAdditionalPath();
        }
    }
}
