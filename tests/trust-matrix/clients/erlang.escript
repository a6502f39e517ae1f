%% Erlang/OTP httpc with the roots of public_key:cacerts_get() (OTP 25 and later): the
%% first system bundle file it finds (/etc/ssl/certs/ca-certificates.crt first); no
%% variable; or, given CA, the certificates of that file.
%% usage: escript erlang.escript URL [CA]   exit 0: trusted, the body on stdout; 3: the
%% issuer is not trusted; other: failed for another reason
main(Args) ->
    [Url | Rest] = Args,
    {ok, _} = application:ensure_all_started(inets),
    {ok, _} = application:ensure_all_started(ssl),
    CaCerts = case Rest of
                  [] -> public_key:cacerts_get();
                  [File] -> [Der || {'Certificate', Der, _} <- public_key:pem_decode(element(2, file:read_file(File)))]
              end,
    Tls = [{verify, verify_peer}, {cacerts, CaCerts}, {log_level, none},
           {customize_hostname_check, [{match_fun, public_key:pkix_verify_hostname_match_fun(https)}]}],
    case httpc:request(get, {Url, []}, [{ssl, Tls}, {timeout, 10000}, {connect_timeout, 10000}], []) of
        {ok, {{_, 200, _}, _, Body}} ->
            io:put_chars(Body),
            halt(0);
        {error, Reason} ->
            Text = io_lib:format("~0p", [Reason]),
            case string:find(Text, "unknown_ca") of
                nomatch -> io:format(standard_error, "~s~n", [Text]), halt(1);
                _ -> io:format("untrusted: ~s~n", [Text]), halt(3)
            end;
        Other ->
            io:format(standard_error, "~0p~n", [Other]),
            halt(1)
    end.
