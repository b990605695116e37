package dev.tether.spring.boot.internal;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/** Matches when at least one {@code tether.mqtt.clients.<name>} or {@code tether.websocket.clients.<name>} is configured. */
public final class ConnectionsConfiguredCondition extends SpringBootCondition {

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        int mqtt = ClientBeansRegistrar.keys(context.getEnvironment(), ClientBeansRegistrar.MQTT).size();
        int ws = ClientBeansRegistrar.keys(context.getEnvironment(), ClientBeansRegistrar.WEBSOCKET).size();
        return mqtt + ws > 0
                ? ConditionOutcome.match(mqtt + " MQTT and " + ws + " WebSocket clients configured")
                : ConditionOutcome.noMatch("no tether.mqtt.clients.* or tether.websocket.clients.* configured");
    }
}
