package dev.tether.mqtt.internal;

import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.RetainHandling;
import java.util.List;

/**
 * Where the SUBSCRIBE and UNSUBSCRIBE packets of one connection go: what {@link SubscribeFlow} needs of a
 * connection. Called under the client's monitor.
 */
interface SubscribeWriter {

    /** @return whether new subscriptions may be sent on this connection */
    boolean canSend();

    /** Writes a SUBSCRIBE of one filter; a subscription identifier of 0 means none. */
    void writeSubscribe(int packetId, String filter, MqttQos qos, boolean noLocal, boolean retainAsPublished,
                        RetainHandling retainHandling, int subscriptionIdentifier);

    /** Writes an UNSUBSCRIBE of the filters. */
    void writeUnsubscribe(int packetId, List<String> filters);

    /** Reports a lifecycle notice of the connection's attempt. */
    void reportNotice(String kind, String details);
}
