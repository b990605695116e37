package dev.tether.samples.cli;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.jwt.JwtCredentialsProvider;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.TokenMapping;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** Credentials options shared by the commands: a user name with a password, or a fresh HS256 JWT per attempt. */
final class AuthOptions {

    @Option(names = "--username", paramLabel = "U", description = "User name (MQTT) or, with a password, HTTP basic user.")
    String username;

    @Option(names = "--password", paramLabel = "P", description = "Password. Prefer --password-file: a command line is visible to other users.")
    String password;

    @Option(names = "--password-file", paramLabel = "F", description = "Read the password from the first line of this file.")
    Path passwordFile;

    @Option(names = "--jwt-hs256-secret-file", paramLabel = "F",
            description = "Sign a fresh HS256 JWT before every attempt with the secret in this file; it becomes the MQTT password or the Bearer header.")
    Path jwtSecretFile;

    @Option(names = "--jwt-ttl", paramLabel = "D", converter = Durations.class, defaultValue = "5m",
            description = "Lifetime of each JWT (default: ${DEFAULT-VALUE}).")
    Duration jwtTtl;

    @Option(names = "--jwt-subject", paramLabel = "S", description = "Subject claim of each JWT (default: the user name, or 'tether').")
    String jwtSubject;

    /**
     * @param cl           for usage errors
     * @param bearerHeader true for WebSocket (the token becomes {@code Authorization: Bearer}), false for MQTT
     *                     (the token becomes the password)
     * @return the provider the options describe
     */
    CredentialsProvider provider(CommandLine cl, boolean bearerHeader) {
        if (password != null && passwordFile != null) {
            throw new CommandLine.ParameterException(cl, "give --password or --password-file, not both");
        }
        if (jwtSecretFile != null) {
            if (password != null || passwordFile != null) {
                throw new CommandLine.ParameterException(cl, "a JWT replaces the password: drop --password/--password-file");
            }
            byte[] secret = readSecret(cl, jwtSecretFile, "--jwt-hs256-secret-file").getBytes(StandardCharsets.UTF_8);
            if (secret.length < 32) {
                throw new CommandLine.ParameterException(cl, "the HS256 secret in " + jwtSecretFile + " is " + secret.length
                        + " bytes; it must be at least 32 bytes (256 bits)");
            }
            JwtSigner signer = JwtSigner.builder().hs256(secret)
                    .subject(jwtSubject != null ? jwtSubject : username != null ? username : "tether")
                    .lifetime(jwtTtl).build();
            return JwtCredentialsProvider.builder().selfSigned(signer)
                    .mapping(bearerHeader ? TokenMapping.secret() : TokenMapping.password(username != null ? username : "tether"))
                    .refreshSkew(jwtTtl.dividedBy(5))
                    .build();
        }
        String pw = password != null ? password : passwordFile != null ? readSecret(cl, passwordFile, "--password-file") : null;
        if (username == null && pw == null) {
            return CredentialsProvider.none();
        }
        return CredentialsProvider.fixed(Credentials.of(username, pw));
    }

    private static String readSecret(CommandLine cl, Path file, String option) {
        try {
            String s = Files.readString(file, StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
            if (s.isEmpty()) {
                throw new CommandLine.ParameterException(cl, option + ": " + file + " is empty");
            }
            return s;
        } catch (IOException e) {
            throw new CommandLine.ParameterException(cl, option + ": cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
        }
    }
}
