package dev.tether.mqtt.internal;

import dev.tether.core.CredentialsProvider;
import dev.tether.core.CredentialsRequest;
import reactor.core.publisher.Mono;

/** MQTT 5 re-authentication: fresh credentials, then AUTH on the live connection. */
public final class Reauthentication {

    private Reauthentication() {
    }

    /**
     * @param connection  the live connection
     * @param credentials the provider, asked to refresh
     * @return completes when the broker accepted the new credentials
     */
    public static Mono<Void> run(MqttConnection connection, CredentialsProvider credentials) {
        return Mono.defer(() -> credentials.credentials(new CredentialsRequest(1, connection.attempt().endpoint(), true)))
                .switchIfEmpty(Mono.error(() -> new IllegalStateException("the credentials provider completed without credentials")))
                .flatMap(connection::reauthenticate);
    }
}
