"""Baidu AI platform error codes, shared by Baidu's service families.

The union of the tables in Baidu's image recognition, image search and EasyDL docs (42 codes
plus the image-search ones).  Retried: 1, 2, 4, 18, 282000, 336000 (transient server, cluster
and QPS failures); token problems 110/111 are the auth's business (fetch a new token, once).
"""

from __future__ import annotations

from vislab.errors import CodeTable, ErrorCode

__all__ = ["BAIDU_CODES"]


def _codes():
    auth = {6, 13, 14, 15, 100, 110, 111, 216110}
    quota = {4, 17, 18, 19}
    unavailable = {1, 2, 216401, 282000, 336000}
    retry = {1, 2, 4, 18, 282000, 336000}
    messages = {
        1: "Unknown error",
        2: "Service temporarily unavailable",
        3: "Unsupported openapi method",
        4: "Open api request limit reached",
        6: "No permission to access data",
        13: "Get service token failed",
        14: "IAM Certification failed",
        15: "app not exsits or create failed",
        17: "Open api daily request limit reached",
        18: "Open api qps request limit reached",
        19: "Open api total request limit reached",
        100: "Invalid parameter",
        110: "Access token invalid or no longer valid",
        111: "Access token expired",
        216017: "not initialized",
        216100: "invalid param",
        216101: "not enough param",
        216102: "service not support",
        216103: "param too long",
        216110: "appid not exist",
        216200: "empty image",
        216201: "image format error",
        216202: "image size error",
        216203: "image size error",
        216401: "internal error",
        216630: "recognize error",
        216631: "recognize bank card error",
        216633: "recognize idcard error",
        216634: "detect error",
        216680: "item not exist",
        216681: "item exist",
        282000: "internal error",
        282003: "missing parameters: {param}",
        282004: "invalid parameter(s)",
        282005: "batch processing error",
        282006: "batch task limit reached",
        282100: "image transcode error",
        282101: "image split limit reached",
        282102: "target detect error",
        282103: "target recognize error",
        282111: "url format illegal",
        282112: "url download timeout",
        282113: "url response invalid",
        282114: "url size error",
        282808: "request id: xxxxx not exist",
        282809: "result type error",
        282810: "image recognize error",
        283300: "Invalid argument",
        336000: "Internal error",
        336001: "Invalid Argument",
    }
    for code, message in messages.items():
        kind = (
            "auth"
            if code in auth
            else "quota"
            if code in quota
            else "unavailable"
            if code in unavailable
            else "invalid"
        )
        yield ErrorCode(code, message, kind, retry=code in retry)


#: Every Baidu AI platform code vislab knows (families extend it with their own messages).
BAIDU_CODES = CodeTable("baidu", _codes())
