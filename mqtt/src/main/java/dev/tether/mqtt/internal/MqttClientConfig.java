package dev.tether.mqtt.internal;

import dev.tether.core.Credentials;
import dev.tether.core.OverflowPolicy;
import dev.tether.mqtt.MqttVersion;
import dev.tether.mqtt.MqttWill;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The resolved, validated client settings, shared by the connector and the client. Built by
 * {@code MqttClient.Builder}, which validates every field.
 *
 * @param clientId              client identifier (may be empty: the broker assigns one)
 * @param version               protocol version spoken first
 * @param versionFallback       whether a broker that refuses MQTT 5 makes the client speak MQTT 3.1.1 to it
 * @param cleanStart            clean start / clean session flag
 * @param sessionExpiry         MQTT 5 session expiry interval
 * @param keepAlive             keepalive sent in CONNECT (zero disables)
 * @param pingTimeout           how long to wait for PINGRESP
 * @param connackTimeout        how long to wait for CONNACK
 * @param will                  the Will, or null
 * @param offlineCapacity       how many publishes are buffered while disconnected
 * @param overflowPolicy        what happens when the offline buffer is full
 * @param maxInFlight           client cap on QoS 1 and 2 publishes in flight
 * @param receiveMaximum        MQTT 5 Receive Maximum the client announces
 * @param maxPacketSize         largest packet the client decodes and sends
 * @param drainTimeout          how long a graceful close waits for in-flight publishes
 * @param transportCloseTimeout how long the transport close handshake may take before TCP is closed
 * @param sslContext            TLS settings, or null for the JDK defaults
 * @param webSocketHeaders      per-attempt HTTP headers of the WebSocket upgrade
 * @param webSocketQuery        per-attempt query parameters of the WebSocket upgrade
 * @param authenticationMethod  MQTT 5 enhanced authentication method, or null for user name and password
 * @param incompletePacketTimeout how long an inbound packet may stay incomplete before it is a protocol error
 * @param inboundBufferSize     messages each subscriber (and the unmatched hold) buffers before reading pauses
 * @param dropQos0WhenFull      whether a QoS 0 message for a full subscriber buffer is dropped (counted) instead
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public record MqttClientConfig(String clientId, MqttVersion version, boolean versionFallback, boolean cleanStart, Duration sessionExpiry,
                               Duration keepAlive, Duration pingTimeout, Duration connackTimeout,
                               @Nullable MqttWill will, int offlineCapacity, OverflowPolicy overflowPolicy,
                               int maxInFlight, int receiveMaximum, int maxPacketSize, Duration drainTimeout,
                               Duration transportCloseTimeout, @Nullable SslContext sslContext,
                               Function<Credentials, Map<String, String>> webSocketHeaders,
                               Function<Credentials, Map<String, String>> webSocketQuery,
                               @Nullable String authenticationMethod, Duration incompletePacketTimeout,
                               int inboundBufferSize, boolean dropQos0WhenFull) {

    /** @return whether MQTT 5 is spoken first */
    public boolean isV5() {
        return version == MqttVersion.MQTT_5;
    }

    /**
     * @return whether a version refusal of MQTT 5 leads to MQTT 3.1.1: asked for, and no setting that needs
     *         MQTT 5 (an authentication method) is in the way
     */
    public boolean fallsBack() {
        return version == MqttVersion.MQTT_5 && versionFallback && authenticationMethod == null;
    }
}
