package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSession;
import dev.tether.mqtt.MqttVersion;
import java.time.Duration;
import java.util.Optional;

/** What one CONNACK granted. */
record NegotiatedSession(MqttVersion version, boolean sessionPresent, String clientId, Duration keepAlive,
                         int receiveMaximum, MqttQos maximumQos, boolean retainAvailable,
                         Optional<Long> maximumPacketSize, String transport,
                         boolean subscriptionIdentifiersAvailable, boolean sharedSubscriptionsAvailable) implements MqttSession {

    @Override
    public String toString() {
        return "MQTT " + (version == MqttVersion.MQTT_5 ? "5" : "3.1.1") + " over " + transport
                + ", sessionPresent=" + sessionPresent + ", clientId=" + clientId + ", keepAlive=" + keepAlive.getSeconds()
                + " s, receiveMaximum=" + receiveMaximum + ", maximumQos=" + maximumQos.value()
                + (version == MqttVersion.MQTT_5 ? ", subscriptionIdentifiers=" + subscriptionIdentifiersAvailable
                + ", sharedSubscriptions=" + sharedSubscriptionsAvailable : "");
    }
}
