#include "remote/aws_credentials.hpp"

#include "core/log.hpp"
#include "remote/crypto.hpp"
#include "remote/http.hpp"
#include "remote/xml_text.hpp"

#include <billdrop/result.hpp>

#include <fstream>
#include <sstream>
#include <unistd.h>

namespace billdrop::remote {

namespace {

std::string trim(std::string_view text) {
  const std::size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos)
    return "";
  const std::size_t end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string env_or(const Environment& environment, const std::string& name,
                   const std::string& fallback) {
  std::optional<std::string> value = environment(name);
  return value ? *value : fallback;
}

std::string credentials_file(const RemoteSettings& settings, const Environment& environment) {
  if (!settings.aws_shared_credentials_file.empty())
    return settings.aws_shared_credentials_file.string();
  if (std::optional<std::string> file = environment("AWS_SHARED_CREDENTIALS_FILE"))
    return *file;
  if (std::optional<std::string> home = environment("HOME"))
    return *home + "/.aws/credentials";
  return "";
}

// AssumeRoleWithWebIdentity: no signature; the token is the proof.
AwsCredentials assume_role_with_web_identity(const RemoteSettings& settings,
                                             const Environment& environment,
                                             const std::string& token_file,
                                             const std::string& role_arn) {
  std::ifstream in(token_file, std::ios::binary);
  if (!in)
    throw ErrorException(
        config_error("AWS_WEB_IDENTITY_TOKEN_FILE '" + token_file + "' cannot be read"));
  std::stringstream token;
  token << in.rdbuf();
  const std::string region = aws_region(settings, environment);
  std::string url = settings.sts_endpoint;
  if (url.empty())
    url =
        env_or(environment, "AWS_ENDPOINT_URL_STS",
               env_or(environment, "AWS_ENDPOINT_URL", "https://sts." + region + ".amazonaws.com"));
  const Endpoint endpoint = parse_endpoint(url, "the STS endpoint");
  const std::string session =
      env_or(environment, "AWS_ROLE_SESSION_NAME", "billdrop-" + std::to_string(::getpid()));
  const std::string body = sigv4_query_string({{"Action", "AssumeRoleWithWebIdentity"},
                                               {"Version", "2011-06-15"},
                                               {"RoleArn", role_arn},
                                               {"RoleSessionName", session},
                                               {"WebIdentityToken", trim(token.str())}});
  const std::unique_ptr<httplib::Client> client = make_client(endpoint, settings);
  const std::string what = "STS AssumeRoleWithWebIdentity for role " + role_arn;
  const HttpAnswer answer =
      http_send(*client, "POST", endpoint.base_path + "/", {{"Host", endpoint.host}}, body,
                "application/x-www-form-urlencoded", what);
  if (answer.status != 200)
    throw_answer(answer, what);
  AwsCredentials credentials{xml_value(answer.body, "AccessKeyId"),
                             xml_value(answer.body, "SecretAccessKey"),
                             xml_value(answer.body, "SessionToken")};
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
    throw ErrorException(source_error(what + ": the answer holds no credentials"));
  return credentials;
}

} // namespace

std::string aws_region(const RemoteSettings& settings, const Environment& environment) {
  if (!settings.s3_region.empty())
    return settings.s3_region;
  return env_or(environment, "AWS_REGION", env_or(environment, "AWS_DEFAULT_REGION", "us-east-1"));
}

bool read_aws_profile(const std::string& file, const std::string& profile, AwsCredentials& out) {
  std::ifstream in(file);
  if (!in)
    return false;
  std::string line;
  bool inside = false;
  bool found = false;
  AwsCredentials read;
  while (std::getline(in, line)) {
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';')
      continue;
    if (text.front() == '[') {
      std::string name = trim(text.substr(1, text.find(']') - 1));
      if (name.starts_with("profile "))
        name = trim(name.substr(8));
      inside = name == profile;
      found = found || inside;
      continue;
    }
    if (!inside)
      continue;
    const std::size_t equals = text.find('=');
    if (equals == std::string::npos)
      continue;
    const std::string key = trim(text.substr(0, equals));
    const std::string value = trim(text.substr(equals + 1));
    if (key == "aws_access_key_id")
      read.access_key_id = value;
    else if (key == "aws_secret_access_key")
      read.secret_access_key = value;
    else if (key == "aws_session_token")
      read.session_token = value;
  }
  if (!found)
    return false;
  if (read.access_key_id.empty() || read.secret_access_key.empty())
    throw ErrorException(config_error("profile '" + profile + "' of " + file +
                                      " has no aws_access_key_id and aws_secret_access_key"));
  out = read;
  return true;
}

ResolvedAwsCredentials find_aws_credentials(const RemoteSettings& settings,
                                            const Environment& environment) {
  const std::string file = credentials_file(settings, environment);
  const std::string named =
      settings.aws_profile.empty() ? env_or(environment, "AWS_PROFILE", "") : settings.aws_profile;
  ResolvedAwsCredentials found;
  if (!named.empty()) {
    if (read_aws_profile(file, named, found.credentials)) {
      found.source = "profile '" + named + "' of " + file;
      return found;
    }
    throw ErrorException(config_error("AWS profile '" + named + "' is not in " + file +
                                      " (set AWS_SHARED_CREDENTIALS_FILE or aws_profile)"));
  }
  const std::optional<std::string> key = environment("AWS_ACCESS_KEY_ID");
  const std::optional<std::string> secret = environment("AWS_SECRET_ACCESS_KEY");
  if (key && secret) {
    found.credentials = {*key, *secret, env_or(environment, "AWS_SESSION_TOKEN", "")};
    found.source = "environment";
    return found;
  }
  const std::optional<std::string> token_file = environment("AWS_WEB_IDENTITY_TOKEN_FILE");
  const std::optional<std::string> role = environment("AWS_ROLE_ARN");
  if (token_file && role) {
    found.credentials = assume_role_with_web_identity(settings, environment, *token_file, *role);
    found.source = "web identity (" + *role + ")";
    return found;
  }
  if (read_aws_profile(file, "default", found.credentials)) {
    found.source = "profile 'default' of " + file;
    return found;
  }
  throw ErrorException(config_error(
      "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a "
      "shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials), or "
      "AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN"));
}

} // namespace billdrop::remote
