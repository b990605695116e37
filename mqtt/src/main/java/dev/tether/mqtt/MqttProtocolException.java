package dev.tether.mqtt;

import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Initiator;
import org.jspecify.annotations.Nullable;

/**
 * The broker sent a malformed packet or a packet that is not allowed at that point of the
 * conversation. Tether closes the connection (it acknowledges nothing it did not receive) and the
 * engine reconnects.
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
}
