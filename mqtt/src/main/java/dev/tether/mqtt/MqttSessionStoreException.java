package dev.tether.mqtt;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * A session store could not be opened or could not keep a message: the message says which file and why
 * (locked by another process, corrupt, written for another client id, disk full).
 */
public final class MqttSessionStoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient @Nullable Path file;

    /**
     * @param file    the store's file, or null
     * @param message what went wrong
     * @param cause   the cause, or null
     */
    public MqttSessionStoreException(@Nullable Path file, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.file = file;
    }

    /** @return the store's file, or null if the store has none */
    public @Nullable Path file() {
        return file;
    }
}
