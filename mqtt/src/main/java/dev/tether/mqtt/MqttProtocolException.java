package dev.tether.mqtt;

import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Initiator;
import dev.tether.core.Verdict;
import org.jspecify.annotations.Nullable;

/**
 * The broker sent a malformed packet or a packet that is not allowed at that point of the
 * conversation. Tether closes the connection (it acknowledges nothing it did not receive) and the
 * engine reconnects. Before CONNACK, when the broker and the client do not understand each other at all, the
 * reconnects are capped ({@link MqttVerdicts#BEFORE_CONNACK_PROTOCOL_ERROR}).
 */
public final class MqttProtocolException extends ConnectionFailedException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what was wrong
     * @param cause   the decoder's error, or null
     */
    public MqttProtocolException(String message, @Nullable Throwable cause) {
        super(message, Initiator.LOCAL_DETECTION, -1, null, cause);
    }

    /**
     * @param message   what was wrong
     * @param cause     the decoder's error, or null
     * @param suggested the verdict, e.g. {@link MqttVerdicts#BEFORE_CONNACK_PROTOCOL_ERROR} before CONNACK; null for
     *                  the default (retry)
     */
    public MqttProtocolException(String message, @Nullable Throwable cause, @Nullable Verdict suggested) {
        super(message, Initiator.LOCAL_DETECTION, -1, suggested, cause);
    }
}
