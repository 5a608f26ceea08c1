// orthanc_settings.cpp - Orthanc's JSON configuration -> cmo_settings (orthanc_settings.h),
// read with JsonCpp, the JSON library Orthanc itself uses.
#include "orthanc_settings.h"

#include <json/json.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>

#include "chaosmask/app_outcome.h"

namespace {

const char *const known_keys[] = {"Config", "KeyRing", "Profile"};

std::string resolve(const std::string &path, const char *config_dir)
{
    if (path.empty() || path[0] == '/' || config_dir == nullptr || config_dir[0] == '\0')
        return path;
    return std::string(config_dir) + "/" + path;
}

// Copies a string member into out; an absent member leaves out as it is.
int string_member(const Json::Value &obj, const char *section, const char *key, char *out, size_t size,
                  const char *config_dir, bool is_path, cm_error *err)
{
    if (!obj.isMember(key))
        return 0;
    const Json::Value &v = obj[key];
    if (!v.isString() || v.asString().empty())
        return cm_fail(err, CM_APP_EUSAGE, "Orthanc configuration: %s%s%s must be a non-empty string", section,
                       section[0] ? "." : "", key);
    std::string s = is_path ? resolve(v.asString(), config_dir) : v.asString();
    if (s.size() >= size || s.find('\0') != std::string::npos)
        return cm_fail(err, CM_APP_EUSAGE, "Orthanc configuration: %s%s%s is too long", section, section[0] ? "." : "",
                       key);
    std::snprintf(out, size, "%s", s.c_str());
    return 0;
}

int parse_section(cmo_settings *out, const Json::Value &sec, const char *config_dir, cm_error *err)
{
    if (!sec.isObject())
        return cm_fail(err, CM_APP_EUSAGE, "Orthanc configuration: \"%s\" must be an object", CMO_SECTION);
    for (const std::string &name : sec.getMemberNames()) {
        bool known = false;
        for (const char *k : known_keys)
            known = known || name == k;
        if (!known)
            return cm_fail(err, CM_APP_EUSAGE, "Orthanc configuration: unknown setting %s.%.64s (known: Config, "
                           "KeyRing, Profile)", CMO_SECTION, name.c_str());
    }
    out->has_section = 1;
    if (string_member(sec, CMO_SECTION, "Config", out->config_path, sizeof out->config_path, config_dir, true, err) ||
        string_member(sec, CMO_SECTION, "KeyRing", out->keyring_dir, sizeof out->keyring_dir, config_dir, true, err) ||
        string_member(sec, CMO_SECTION, "Profile", out->profile, sizeof out->profile, config_dir, false, err))
        return err->code;
    return 0;
}

int parse_orthanc(cmo_settings *out, const Json::Value &root, const char *config_dir, cm_error *err)
{
    std::snprintf(out->storage_dir, sizeof out->storage_dir, "%s", resolve("OrthancStorage", config_dir).c_str());
    if (string_member(root, "", "StorageDirectory", out->storage_dir, sizeof out->storage_dir, config_dir, true, err))
        return err->code;
    if (root.isMember("StorageCompression")) {
        if (!root["StorageCompression"].isBool())
            return cm_fail(err, CM_APP_EUSAGE, "Orthanc configuration: StorageCompression must be true or false");
        out->storage_compression = root["StorageCompression"].asBool();
    }
    out->storage_cache_mb = 128;
    if (root.isMember("MaximumStorageCacheSize")) {
        if (!root["MaximumStorageCacheSize"].isIntegral())
            return cm_fail(err, CM_APP_EUSAGE, "Orthanc configuration: MaximumStorageCacheSize must be a number");
        out->storage_cache_mb = root["MaximumStorageCacheSize"].asLargestInt();
    }
    return root.isMember(CMO_SECTION) ? parse_section(out, root[CMO_SECTION], config_dir, err) : 0;
}

} // namespace

extern "C" int cmo_settings_parse(cmo_settings *out, const char *json, const char *config_dir, cm_error *err)
{
    std::memset(out, 0, sizeof *out);
    Json::CharReaderBuilder builder;
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value root;
    std::string errors;
    size_t len = json ? std::strlen(json) : 0;
    if (json == nullptr || !reader->parse(json, json + len, &root, &errors) || !root.isObject())
        return cm_fail(err, CM_APP_EUSAGE, "Orthanc configuration is not a JSON object: %.200s", errors.c_str());
    try {
        return parse_orthanc(out, root, config_dir, err);
    } catch (const std::exception &e) { // JsonCpp throws on conversions it cannot make
        return cm_fail(err, CM_APP_EUSAGE, "Orthanc configuration: %.200s", e.what());
    }
}
